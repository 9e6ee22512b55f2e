"""Notebook 08's figure: the held-out reliability diagrams of the four training runs at their last epoch,
and of the cross-entropy run after temperature scaling."""

import matplotlib.pyplot as plt
import torch

from ..calibration import ece, fit_temperature, reliability_bins
from ..training import course_runs
from . import course_figure

N_BINS = 15
SCALED = "cross-entropy, T-scaled"


def final_held_out_probs():
    """{panel title: held-out probabilities (N, C)} at the last epoch of each run, then the cross-entropy run
    with its temperature fitted on the held-out split; and the held-out labels."""
    data, runs = course_runs()
    panels = {name: torch.softmax(history.held_logits, dim=1) for name, history in runs.items()}
    logits = runs["cross-entropy"].held_logits
    temperature = fit_temperature(logits, data.held_labels)
    panels[SCALED] = torch.softmax(logits / temperature, dim=1)
    return panels, data.held_labels


@course_figure("08_reliability_diagrams.png")
def reliability_diagrams(n_bins=N_BINS):
    """One reliability diagram per run (accuracy per confidence bin, the diagonal for a calibrated model, the
    gap to each bin's mean confidence shaded), with the ECE in each title."""
    panels, labels = final_held_out_probs()
    fig, axes = plt.subplots(1, len(panels), figsize=(2.4 * len(panels), 3.1), sharey=True)
    width = 1 / n_bins
    for ax, (title, probs) in zip(axes, panels.items(), strict=True):
        bins = reliability_bins(probs, labels, n_bins)
        filled = bins.counts > 0
        centers = (bins.edges[:-1] + width / 2)[filled]
        accuracy, confidence = bins.accuracy[filled], bins.confidence[filled]
        ax.plot([0, 1], [0, 1], ":", color="0.4", linewidth=1)
        ax.bar(centers, accuracy, width=width, color="C0", edgecolor="white", label="accuracy")
        ax.bar(
            centers,
            (confidence - accuracy).abs(),
            bottom=torch.minimum(accuracy, confidence),
            width=width,
            color="C3",
            alpha=0.3,
            edgecolor="C3",
            linewidth=0.5,
            label="gap to confidence",
        )
        ax.set_title(f"{title}\nECE = {float(ece(probs, labels, n_bins)):.3f}", fontsize="medium")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("held-out accuracy in the bin")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))  # room for the legend below the panels
    return fig
