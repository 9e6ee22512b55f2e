"""Notebook 02's figure: the worked example's three samples, from probabilities to losses."""

import matplotlib.pyplot as plt
import torch

from ..cross_entropy import cross_entropy
from ..plots import ProbabilityBars
from ..softmax import softmax
from . import course_figure

# The curriculum's worked example: three samples, four classes, and the true class of each.
WORKED_LOGITS = (
    (7.4, 2.8, -0.6, 6.3),
    (-1.9, 4.2, 3.9, 5.1),
    (9.3, -5.3, 7.2, -8.4),
)
WORKED_TARGETS = (3, 0, 2)
TARGET_COLOR = "C3"
OTHER_COLOR = "C0"


@course_figure("02_worked_example_losses.png")
def worked_example_losses(logits=WORKED_LOGITS, targets=WORKED_TARGETS):
    """One panel per sample: softmax of its logits, the target's bar in red; then the curve -log p
    with each sample's (p_target, loss) on it and the mean loss of the batch (notebook 02)."""
    logits = torch.as_tensor(logits, dtype=torch.float32)  # (N, C)
    targets = torch.as_tensor(targets)  # (N,)
    probs = softmax(logits, dim=1)  # (N, C)
    losses = cross_entropy(logits, targets, reduction="none")  # (N,)
    target_probs = probs[torch.arange(len(targets)), targets]  # (N,)
    n_samples, n_classes = logits.shape

    fig, axes = plt.subplots(
        1, n_samples + 1, figsize=(2.2 * n_samples + 4.2, 2.8), width_ratios=[1.0] * n_samples + [1.9]
    )
    for n, ax in enumerate(axes[:n_samples]):
        bars = ProbabilityBars(ax, probs[n], decimals=3)
        for c, (bar, label) in enumerate(zip(bars.bars, bars.labels, strict=True)):
            bar.set_color(TARGET_COLOR if c == targets[n] else OTHER_COLOR)
            if c == targets[n]:
                label.set_color(TARGET_COLOR)
        ax.set_title(f"sample {n}: target {int(targets[n])}\nloss −log p = {float(losses[n]):.4f}", fontsize="medium")
        ax.set_xlabel("class")
    axes[0].set_ylabel("probability softmax(z)")

    ax = axes[-1]
    p = torch.linspace(2e-4, 1.0, 500, dtype=torch.float64)
    ax.plot(p, -p.log(), color="0.3", label="surprise −log p")
    ax.plot(target_probs, losses, "o", color=TARGET_COLOR, label="the samples' targets")
    for n in range(n_samples):
        ax.annotate(
            f"sample {n}: p = {float(target_probs[n]):.4f}",
            (float(target_probs[n]), float(losses[n])),
            xytext=(12, 4),
            textcoords="offset points",
            fontsize="small",
        )
    mean = float(losses.mean())
    ax.axhline(mean, color=TARGET_COLOR, linestyle="--", linewidth=1, label=f"mean loss {mean:.4f}")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0.0, max(9.0, float(losses.max()) + 1.0))
    ax.set_xlabel("probability of the target class, p")
    ax.set_ylabel("loss")
    ax.set_title("cross-entropy = −log p of the target", fontsize="medium")
    ax.legend(fontsize="small", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
