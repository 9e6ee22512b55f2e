"""Notebook 01's figure: the same logits at several temperatures."""

import matplotlib.pyplot as plt
import torch

from ..plots import ProbabilityBars
from ..softmax import softmax
from . import course_figure

# Notebook 01's running example: four logits, one per class.
EXAMPLE_LOGITS = (2.0, 1.0, 0.1, -1.0)
EXAMPLE_TEMPERATURES = (0.25, 0.5, 1.0, 2.0, 4.0)


@course_figure("01_softmax_temperatures.png")
def softmax_temperatures(logits=EXAMPLE_LOGITS, temperatures=EXAMPLE_TEMPERATURES):
    """softmax(z / T) of the same logits z, one panel per temperature T (notebook 01)."""
    logits = torch.as_tensor(logits, dtype=torch.float32)  # (C,)
    fig, axes = plt.subplots(1, len(temperatures), figsize=(2.0 * len(temperatures), 2.4), sharey=True, squeeze=False)
    axes = axes[0]  # (len(temperatures),)
    for ax, temperature in zip(axes, temperatures, strict=True):
        ax.axhline(1 / len(logits), color="0.5", linestyle=":", linewidth=1)  # the uniform distribution
        ProbabilityBars(ax, softmax(logits / temperature, dim=0), decimals=2)
        ax.set_title(f"T = {temperature:g}")
        ax.set_xlabel("class")
    axes[0].set_ylabel("probability")
    z = ", ".join(f"{value:g}" for value in logits.tolist())
    fig.suptitle(
        f"softmax(z / T) for the logits z = [{z}]: small T sharpens, large T flattens "
        f"towards the uniform 1/{len(logits)} (dotted)"
    )
    fig.tight_layout()
    return fig
