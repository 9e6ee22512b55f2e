"""Notebook 06's figure: with label smoothing the loss has a minimum at a finite logit gap."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..label_smoothing import loss_along_gap, minimum_loss, optimal_logit_gap
from . import course_figure

EXAMPLE_ALPHAS = (0.0, 0.05, 0.1, 0.2, 0.5)
EXAMPLE_CLASSES = 5
GAP_RANGE = (-2.0, 10.0)
CLASS_COUNTS = (2, 5, 10)  # right panel: the optimal gap against alpha, one curve per C


@course_figure("06_smoothing_optimal_gap.png")
def smoothed_loss_against_gap(alphas=EXAMPLE_ALPHAS, num_classes=EXAMPLE_CLASSES, class_counts=CLASS_COUNTS):
    """Left: the per-sample smoothed loss ℓ(g) of the logits [g, 0, ..., 0] (true class y = 0) against the gap g,
    one curve per alpha, each minimum marked (alpha = 0 has none). Right: the optimal gap against alpha, one curve
    per C."""
    gaps = torch.linspace(*GAP_RANGE, 481, dtype=torch.float64)  # (G,)
    fig, (curves_ax, gap_ax) = plt.subplots(1, 2, figsize=(10.5, 3.6), gridspec_kw={"width_ratios": [1.3, 1]})
    for i, alpha in enumerate(alphas):
        color = f"C{i}"
        losses = loss_along_gap(gaps, alpha, num_classes)  # (G,)
        best_gap = optimal_logit_gap(alpha, num_classes)
        if np.isfinite(best_gap):
            label = f"α = {alpha:g}: g* = {best_gap:.2f}"
            curves_ax.plot(gaps, losses, color=color, label=label)
            curves_ax.plot([best_gap], [minimum_loss(alpha, num_classes)], "o", color=color, markersize=6)
        else:
            curves_ax.plot(gaps, losses, color=color, linestyle="--", label=f"α = {alpha:g}: g* = ∞")
    curves_ax.text(
        GAP_RANGE[1] - 0.1, 0.06, "α = 0: falls towards 0 →", ha="right", va="bottom", color="C0", fontsize="small"
    )
    curves_ax.set_xlim(*GAP_RANGE)
    curves_ax.set_ylim(0.0, 3.0)
    curves_ax.set_xlabel(f"logit gap g  (logits [g, 0, ..., 0], C = {num_classes}, y = 0)")
    curves_ax.set_ylabel("per-sample loss ℓ(g) = H(q, p)")
    curves_ax.set_title("ℓ(g) has its minimum at a finite gap g*")
    curves_ax.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))

    alpha_grid = np.geomspace(1e-4, 1.0, 200)
    for c in class_counts:
        curve = [optimal_logit_gap(float(a), c) for a in alpha_grid]
        gap_ax.plot(alpha_grid, curve, label=f"C = {c}")
    gap_ax.set_xscale("log")
    gap_ax.set_xlabel("smoothing α (log scale)")
    gap_ax.set_ylabel("optimal gap g*")
    gap_ax.set_title("g* = log((1 - α + α/C) / (α/C))")
    gap_ax.legend(fontsize="small", frameon=False)
    for ax in (curves_ax, gap_ax):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
