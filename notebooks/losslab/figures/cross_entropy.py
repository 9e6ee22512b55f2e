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


def sample_title(n, target, loss):
    """A sample panel's title: 'sample 0: $y = 3$' over '$\\ell = -\\log p_y$ = 1.3951'."""
    return f"sample {n}: $y = {target}$\n" + r"$\ell = -\log p_y$" + f" = {loss:.4f}"


@course_figure("02_worked_example_losses.png")
def worked_example_losses(logits=WORKED_LOGITS, targets=WORKED_TARGETS):
    """One panel per sample: p = softmax(z) of its logits, the true class's bar in red; then the curve
    ℓ = -log p_y with each sample's (p_y, ℓ) on it and the mean loss L of the batch (notebook 02)."""
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
        ax.set_title(sample_title(n, int(targets[n]), float(losses[n])), fontsize="medium")
        ax.set_xlabel("class $c$")
    axes[0].set_ylabel(r"$p = \mathrm{softmax}(z)$")

    ax = axes[-1]
    p = torch.linspace(2e-4, 1.0, 500, dtype=torch.float64)
    ax.plot(p, -p.log(), color="0.3", label=r"$\ell = -\log p_y$")
    ax.plot(target_probs, losses, "o", color=TARGET_COLOR, label="the samples")
    for n in range(n_samples):
        ax.annotate(
            f"sample {n}: $p_y$ = {float(target_probs[n]):.4f}",
            (float(target_probs[n]), float(losses[n])),
            xytext=(12, 4),
            textcoords="offset points",
            fontsize="small",
        )
    mean = float(losses.mean())
    ax.axhline(mean, color=TARGET_COLOR, linestyle="--", linewidth=1, label=f"mean loss $L$ = {mean:.4f}")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0.0, max(9.0, float(losses.max()) + 1.0))
    ax.set_xlabel(r"probability of the true class, $p_y$")
    ax.set_ylabel(r"loss $\ell$")
    ax.set_title(r"cross-entropy $\ell = -\log p_y$", fontsize="medium")
    ax.legend(fontsize="small", frameon=False, loc="upper right", bbox_to_anchor=(1.0, 0.84))  # below sample 1's label
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
