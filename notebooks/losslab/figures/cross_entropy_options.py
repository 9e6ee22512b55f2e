"""Notebook 07's figure: PyTorch's weighted mean against the naive mean of the weighted losses."""

import matplotlib.pyplot as plt
import torch

from ..cross_entropy import cross_entropy
from . import course_figure

# Notebook 07's running example: three samples, three classes, each class the target of one sample.
EXAMPLE_LOGITS = ((2.0, 1.0, 0.1), (0.5, 2.5, 0.3), (1.0, 1.0, 3.0))
EXAMPLE_TARGETS = (0, 1, 2)
EXAMPLE_WEIGHTS = (1.0, 2.0, 3.0)


def weighted_and_naive_means(logits, targets, weight_rows):
    """For each row of class weights (G, C): PyTorch's weighted mean and the naive mean, two (G,) tensors."""
    weighted = torch.stack([cross_entropy(logits, targets, weight=w) for w in weight_rows])
    naive = torch.stack([cross_entropy(logits, targets, weight=w, reduction="none").mean() for w in weight_rows])
    return weighted, naive


def _plot_means(ax, x, weighted, naive, x0, weighted0, naive0):
    ax.plot(
        x, weighted, color="C3", label=r"weighted mean $L$ (PyTorch): $\Sigma_n w_{y_n} \ell_n \,/\, \Sigma_n w_{y_n}$"
    )
    ax.plot(x, naive, color="C1", linestyle="--", label=r"naive mean: $\Sigma_n w_{y_n} \ell_n \,/\, N$")
    ax.plot([x0, x0], [weighted0, naive0], "o", color="0.2", markersize=5, zorder=3)
    for value in (weighted0, naive0):
        ax.annotate(f"{value:.4f}", (x0, value), xytext=(6, -10), textcoords="offset points", fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)


@course_figure("07_weighted_vs_naive_mean.png")
def weighted_vs_naive_mean(
    logits=EXAMPLE_LOGITS, targets=EXAMPLE_TARGETS, weights=EXAMPLE_WEIGHTS, varied_class=0, max_weight=5.0
):
    """Left: one class's weight varies, the others stay; right: every weight is scaled by s. PyTorch's
    weighted mean stays a weighted average of the unweighted losses (dotted) and ignores a common scale;
    the naive mean grows with the weights (notebook 07)."""
    # float64: float32's last bits depend on the CPU's kernels and would move the curves by a fraction of a
    # pixel, enough to change the PNG's bytes on another machine.
    logits = torch.as_tensor(logits, dtype=torch.float64)  # (N, C)
    targets = torch.as_tensor(targets, dtype=torch.long)  # (N,)
    weights = torch.as_tensor(weights, dtype=torch.float64)  # (C,)
    losses = cross_entropy(logits, targets, reduction="none")  # (N,), unweighted
    weighted0 = float(cross_entropy(logits, targets, weight=weights))
    naive0 = float(cross_entropy(logits, targets, weight=weights, reduction="none").mean())

    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.4), sharey=True)

    varied = torch.linspace(0.0, max_weight, 101, dtype=torch.float64)  # (G,): the weight of varied_class
    rows = weights.repeat(len(varied), 1)  # (G, C)
    rows[:, varied_class] = varied
    _plot_means(
        left, varied, *weighted_and_naive_means(logits, targets, rows), float(weights[varied_class]), weighted0, naive0
    )
    others = ", ".join(f"w{c} = {float(w):g}" for c, w in enumerate(weights) if c != varied_class)
    left.set_xlabel(f"weight w{varied_class} of class {varied_class} ({others})")
    left.set_ylabel("mean loss")

    # (S,): from 0.05 (at 0 every weight is 0, and the mean nan)
    scales = torch.linspace(0.0, 3.0, 61, dtype=torch.float64)[1:]
    _plot_means(
        right, scales, *weighted_and_naive_means(logits, targets, scales[:, None] * weights), 1.0, weighted0, naive0
    )
    w = ", ".join(f"{float(v):g}" for v in weights)
    right.set_xlabel(f"scale s of every weight: s · [{w}]")

    smallest, largest = float(losses.min()), float(losses.max())
    for ax in (left, right):
        for loss in (smallest, largest):  # a weighted average of the losses can go no lower and no higher
            ax.axhline(loss, color="0.5", linestyle=":", linewidth=1)
        ax.set_ylim(bottom=0.0)
    for loss, label, offset, va in ((largest, "largest", 3, "bottom"), (smallest, "smallest", -3, "top")):
        right.annotate(
            f"{label} unweighted loss ℓ: {loss:.4f}",
            (1.0, loss),
            xycoords=("axes fraction", "data"),
            xytext=(0, offset),
            textcoords="offset points",
            ha="right",
            va=va,
            fontsize="x-small",
            color="0.35",
        )
    left.legend(loc="upper left", fontsize="small", frameon=False)
    fig.suptitle(
        "PyTorch's weighted mean stays between the smallest and the largest unweighted loss (dotted)\n"
        "and ignores a common scale of the weights; the naive mean of the weighted losses does neither"
    )
    fig.tight_layout()
    return fig
