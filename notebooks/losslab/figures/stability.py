"""Notebook 03's figure: where the loss ℓ = -log(softmax(s·z)_y) and its gradient break, in each floating-point
dtype."""

import math

import matplotlib.pyplot as plt
import torch

from ..widgets.stability import BASE_LOGITS, MAX_SCALE, TARGET, first_scale, losses_and_gradients, naive_losses
from ..widgets.toolkit import subscript
from . import course_figure

DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
COLORS = {"finite": "C2", "gradient": "C1", "loss": "C3"}
LABELS = {"finite": "naive loss and gradient finite", "gradient": "naive gradient inf or nan", "loss": "naive loss inf"}


def break_scales(dtype, base_logits=BASE_LOGITS, target=TARGET, max_scale=MAX_SCALE):
    """(gradient_break, loss_break): the first integer scale s in 1..max_scale at which the naive loss
    ℓ = -log(softmax(s·z)_y), computed in `dtype`, has a gradient with an inf or nan, and at which the
    loss itself is inf or nan (None if it never happens)."""
    scales = torch.arange(1, max_scale + 1, dtype=torch.float64)  # (S,)
    logits = (scales[:, None] * torch.tensor(base_logits, dtype=torch.float64)).to(dtype)  # (S, C)
    losses, gradients = losses_and_gradients(naive_losses, logits, target)
    return first_scale(scales, ~gradients.isfinite().all(dim=1)), first_scale(scales, ~losses.isfinite())


def _segment(ax, row, start, stop, kind, labelled):
    """A bar from start to stop on `row`, labelled for the legend the first time its kind appears."""
    if stop <= start:
        return
    label = None if kind in labelled else LABELS[kind]
    labelled.add(kind)
    ax.barh(row, stop - start, left=start, height=0.6, color=COLORS[kind], label=label)


@course_figure("03_where_log_softmax_breaks.png")
def where_log_softmax_breaks(base_logits=BASE_LOGITS, target=TARGET, dtypes=DTYPES, max_scale=MAX_SCALE):
    """For each dtype, the scales s at which the naive loss ℓ = -log(softmax(s·z)_y) and its gradient
    are finite, their gradient only is broken, or the loss is inf; log_softmax stays finite throughout."""
    fig, ax = plt.subplots(figsize=(8.0, 0.55 * len(dtypes) + 1.6))
    names = [str(dtype).removeprefix("torch.") for dtype in dtypes]
    labelled = set()  # the kinds of bar already in the legend
    end = max_scale + 1  # the last scale, 1000, is inside the bar
    breaks = []  # per row, "gradient break / loss break"
    for row, dtype in enumerate(dtypes):
        gradient_break, loss_break = break_scales(dtype, base_logits, target, max_scale)
        gradient_break = gradient_break or end
        loss_break = loss_break or end
        _segment(ax, row, 1, gradient_break, "finite", labelled)
        _segment(ax, row, gradient_break, loss_break, "gradient", labelled)
        _segment(ax, row, loss_break, end, "loss", labelled)
        breaks.append(" / ".join(f"{scale}" if scale < end else "never" for scale in (gradient_break, loss_break)))
    stable_row = len(dtypes)
    _segment(ax, stable_row, 1, end, "finite", labelled)
    breaks.append("never")
    ax.text(
        math.sqrt(end),
        stable_row,
        "log_softmax: finite everywhere, in every dtype",
        ha="center",
        va="center",
        color="white",
    )
    ax.set_yticks(range(len(dtypes) + 1), [f"log(softmax), {name}" for name in names] + ["log_softmax"])
    ax.invert_yaxis()
    right = ax.twinx()  # the break scales as tick labels on the right
    right.set_ylim(ax.get_ylim())
    right.set_yticks(range(len(breaks)), breaks)
    right.set_ylabel("breaks at s:\ngradient / loss", fontsize="small")
    right.spines[["top"]].set_visible(False)
    ax.set_xscale("log")
    ax.set_xlim(1, end)
    z = ", ".join(f"{value:g}" for value in base_logits)
    ax.set_xlabel(f"scale s of the logits s · [{z}]  (loss ℓ for target y = {target})")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=3, frameon=False, fontsize="small")
    sub = subscript(target)
    ax.set_title(
        f"Where ℓ = −log(softmax(z){sub}) breaks: once p{sub} underflows to 0 (its gradient even earlier)",
        fontsize="medium",
    )
    fig.tight_layout()
    return fig
