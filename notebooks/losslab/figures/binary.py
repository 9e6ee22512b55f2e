"""Notebook 05's figure: BCE computed from probabilities (clamped) vs from logits, over a wide range of logits."""

import matplotlib.pyplot as plt
import torch

from ..binary import binary_cross_entropy, binary_cross_entropy_with_logits
from . import course_figure

# The curriculum's two examples, marked on the figure: (label y, logit z).
MARKED_POINTS = ((1.0, -200.0), (0.0, 20.0))


def bce_two_ways(logits, label):
    """(from probabilities, from logits): the per-element BCE of float32 `logits` against one label, computed as
    BCELoss(sigmoid(z), y), whose logs are clamped at -100, and as BCEWithLogitsLoss(z, y)."""
    logits = torch.as_tensor(logits, dtype=torch.float32)
    target = torch.full_like(logits, float(label))
    from_probabilities = binary_cross_entropy(torch.sigmoid(logits), target, reduction="none")
    from_logits = binary_cross_entropy_with_logits(logits, target, reduction="none")
    return from_probabilities, from_logits


@course_figure("05_bce_probabilities_vs_logits.png")
def bce_probabilities_vs_logits(z_max=250.0, points=2001, marked_points=MARKED_POINTS):
    """One panel per label y in {1, 0}: BCE with logits (a straight line for large |z|) and BCE of the float32
    sigmoid (stuck at the clamp value 100 once sigmoid(z) rounds to 0 or 1), over z in [-z_max, z_max]."""
    logits = torch.linspace(-z_max, z_max, points)  # (points,), float32 as in training
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True, squeeze=False)
    axes = axes[0]
    for ax, label in zip(axes, (1.0, 0.0), strict=True):
        from_probabilities, from_logits = bce_two_ways(logits, label)
        ax.plot(logits, from_logits, color="C0", linewidth=2, label="BCEWithLogitsLoss(z, y)")
        ax.plot(logits, from_probabilities, color="C3", linestyle="--", label="BCELoss(sigmoid(z), y)")
        ax.axhline(100.0, color="0.5", linestyle=":", linewidth=1)
        for marked_label, z in marked_points:
            if marked_label != label:
                continue
            clamped, exact = (float(v) for v in bce_two_ways(torch.tensor([z]), label))
            ax.plot([z, z], [clamped, exact], "o", color="0.2", markersize=5, zorder=3)
            right = z < 0  # write the note on the side where the curves are low
            ax.text(
                0.97 if right else 0.03,
                0.95,
                f"z = {z:g}: BCELoss {clamped:g},\nwith logits {exact:g}",
                transform=ax.transAxes,
                ha="right" if right else "left",
                va="top",
            )
        ax.set_title(f"y = {label:g}")
        ax.set_xlabel("logit z")
        ax.set_xlim(-z_max, z_max)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("loss ℓ")
    axes[0].legend(loc="center right", frameon=False)
    fig.suptitle(
        "BCE in float32: from probabilities, the loss jumps to the clamp value 100 (dotted) once sigmoid(z) rounds "
        "to 0 or 1;\nfrom logits, it keeps growing like |z|"
    )
    fig.tight_layout()
    return fig
