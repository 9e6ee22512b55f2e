"""Notebook 07's one-page summary: which PyTorch loss takes which input and which target, and what
each of the others does with it: run and give the same loss, run and give a wrong loss without a word
(the silent mistakes), or raise an error.

The table is data (CELLS); the figure only draws it. Every statement in it is derived from a computation
in tests/test_figures_which_loss.py, which runs each call and checks what its cell says.
"""

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from . import course_figure

TAKES, SAME, SILENT, ERROR = "takes", "same", "silent", "error"
VERDICTS = {
    # verdict: (cell colour, legend text)
    TAKES: ("#b9dfb9", "what the function takes"),
    SAME: ("#e4f1d3", "runs, the same loss"),
    SILENT: ("#f3b7b0", "silent mistake: runs, a wrong loss, no warning"),
    ERROR: ("#dcdcdc", "raises an error (you will see it)"),
}

# (name in the figure, its nn.Module)
FUNCTIONS = (
    ("F.cross_entropy", "nn.CrossEntropyLoss"),
    ("F.nll_loss", "nn.NLLLoss"),
    ("F.binary_cross_entropy_with_logits", "nn.BCEWithLogitsLoss"),
    ("F.binary_cross_entropy", "nn.BCELoss"),
    ("F.kl_div", "nn.KLDivLoss"),
)
INPUT_KINDS = (
    ("logits", "logits z"),
    ("log_probs", "log-probabilities log p"),
    ("probs", "probabilities p"),
)
TARGET_KINDS = (
    ("class_index", "class index y\n(N,) int64"),
    ("class_probs", "class probabilities q\n(N, C) float, rows sum to 1"),
    ("multi_hot", "multi-hot labels\n(N, C) float 0 / 1"),
)
# The input kind each function takes (used in the target columns) and the target kind it takes (used in
# the input columns): each row varies one of the two and keeps the other right.
OWN_INPUT = {
    "F.cross_entropy": "logits",
    "F.nll_loss": "log_probs",
    "F.binary_cross_entropy_with_logits": "logits",
    "F.binary_cross_entropy": "probs",
    "F.kl_div": "log_probs",
}
OWN_TARGET = {
    "F.cross_entropy": "class_index",
    "F.nll_loss": "class_index",
    "F.binary_cross_entropy_with_logits": "multi_hot",
    "F.binary_cross_entropy": "multi_hot",
    "F.kl_div": "class_probs",
}


@dataclass(frozen=True)
class Cell:
    verdict: str
    text: str


CELLS = {
    # ---- the input columns (each with the target the function takes)
    ("F.cross_entropy", "logits"): Cell(TAKES, "takes logits"),
    ("F.cross_entropy", "log_probs"): Cell(SAME, "runs, the same loss:\nlog_softmax(log p) = log p"),
    ("F.cross_entropy", "probs"): Cell(SILENT, "runs, wrong loss:\nsoftmax applied twice"),
    ("F.nll_loss", "logits"): Cell(SILENT, "runs, wrong loss:\nthe mean of −z_y"),
    ("F.nll_loss", "log_probs"): Cell(TAKES, "takes log p\n(log_softmax(z))"),
    ("F.nll_loss", "probs"): Cell(SILENT, "runs, wrong loss:\nthe mean of −p_y, negative"),
    ("F.binary_cross_entropy_with_logits", "logits"): Cell(TAKES, "takes logits"),
    ("F.binary_cross_entropy_with_logits", "log_probs"): Cell(SILENT, "runs, wrong loss:\nσ(log σ(z)), not σ(z)"),
    ("F.binary_cross_entropy_with_logits", "probs"): Cell(SILENT, "runs, wrong loss:\nsigmoid applied twice"),
    ("F.binary_cross_entropy", "logits"): Cell(ERROR, "RuntimeError if a value\nis outside [0, 1]"),
    ("F.binary_cross_entropy", "log_probs"): Cell(ERROR, "RuntimeError:\nlog p < 0 is outside [0, 1]"),
    ("F.binary_cross_entropy", "probs"): Cell(TAKES, "takes p = σ(z)"),
    ("F.kl_div", "logits"): Cell(SILENT, "runs, wrong loss:\nlogits read as log p"),
    ("F.kl_div", "log_probs"): Cell(TAKES, "takes log p\n(reduction='batchmean')"),
    ("F.kl_div", "probs"): Cell(SILENT, "runs, wrong loss:\nnegative"),
    # ---- the target columns (each with the input the function takes)
    ("F.cross_entropy", "class_index"): Cell(TAKES, "takes class indices"),
    ("F.cross_entropy", "class_probs"): Cell(TAKES, "takes probabilities q"),
    ("F.cross_entropy", "multi_hot"): Cell(SILENT, "runs, wrong loss: the\nlabels compete in one softmax"),
    ("F.nll_loss", "class_index"): Cell(TAKES, "takes class indices"),
    ("F.nll_loss", "class_probs"): Cell(ERROR, "RuntimeError:\nmulti-target not supported"),
    ("F.nll_loss", "multi_hot"): Cell(ERROR, "RuntimeError:\nmulti-target not supported"),
    ("F.binary_cross_entropy_with_logits", "class_index"): Cell(ERROR, "ValueError: target size\n≠ input size"),
    ("F.binary_cross_entropy_with_logits", "class_probs"): Cell(
        SILENT, "runs, wrong loss: C separate\nsigmoids, not one softmax"
    ),
    ("F.binary_cross_entropy_with_logits", "multi_hot"): Cell(TAKES, "takes 0 / 1 labels\n(or soft labels)"),
    ("F.binary_cross_entropy", "class_index"): Cell(ERROR, "ValueError: target size\n≠ input size"),
    ("F.binary_cross_entropy", "class_probs"): Cell(SILENT, "runs, wrong loss: C separate\nsigmoids, not one softmax"),
    ("F.binary_cross_entropy", "multi_hot"): Cell(TAKES, "takes 0 / 1 labels\n(or soft labels)"),
    ("F.kl_div", "class_index"): Cell(ERROR, "RuntimeError: integral\ninputs not supported"),
    ("F.kl_div", "class_probs"): Cell(TAKES, "takes probabilities q"),
    ("F.kl_div", "multi_hot"): Cell(SILENT, "runs, wrong loss: the\nlabels compete in one softmax"),
}
FOOTNOTE = (
    "p = softmax(z) for the three multi-class losses, p = σ(z) for the two binary ones.\n"
    "A row's input columns use the target the function takes; its target columns, the input it takes.\n"
    "A (N, C) target of dtype int64 (multi-hot labels, or a one-hot target straight from F.one_hot)\n"
    "raises an error in all five: give it as float."
)

# Layout in data units (about 0.9 inch each): the input table above the target table.
_LABEL_WIDTH, _CELL_WIDTH, _ROW_HEIGHT, _TITLE_HEIGHT, _HEADER_HEIGHT, _GAP = 3.4, 2.45, 0.8, 0.55, 0.75, 0.3
_INCH = 0.9


def _draw_cell(ax, x, y, width, height, text, colour, bold=False):
    ax.add_patch(Rectangle((x, y), width, height, facecolor=colour, edgecolor="white", linewidth=2))
    ax.text(
        x + width / 2,
        y + height / 2,
        text,
        ha="center",
        va="center",
        fontsize=9.5,
        fontweight="bold" if bold else "normal",
        linespacing=1.3,
    )


def _draw_table(ax, top, title, kinds):
    """One table (the input or the target columns) with its top edge at `top`; returns its bottom edge."""
    ax.text(_LABEL_WIDTH + 1.5 * _CELL_WIDTH, top - _TITLE_HEIGHT / 2, title, ha="center", va="center", fontsize=11.5)
    header_y = top - _TITLE_HEIGHT - _HEADER_HEIGHT
    for index, (_, header) in enumerate(kinds):
        x = _LABEL_WIDTH + index * _CELL_WIDTH
        _draw_cell(ax, x, header_y, _CELL_WIDTH, _HEADER_HEIGHT, header, "#f2f2f2", bold=True)
    for row, (function, module) in enumerate(FUNCTIONS):
        y = header_y - (row + 1) * _ROW_HEIGHT
        ax.text(0.05, y + _ROW_HEIGHT * 0.62, function, ha="left", va="center", fontsize=10, family="monospace")
        ax.text(0.05, y + _ROW_HEIGHT * 0.28, module, ha="left", va="center", fontsize=9, color="0.35")
        for index, (kind, _) in enumerate(kinds):
            cell = CELLS[function, kind]
            text = f"✓ {cell.text}" if cell.verdict == TAKES else cell.text
            x = _LABEL_WIDTH + index * _CELL_WIDTH
            _draw_cell(ax, x, y, _CELL_WIDTH, _ROW_HEIGHT, text, VERDICTS[cell.verdict][0])
    return header_y - len(FUNCTIONS) * _ROW_HEIGHT


@course_figure("07_which_loss_takes_what.png")
def which_loss_takes_what():
    """The table of CELLS: one row per PyTorch loss; above, columns for the three kinds of input, below,
    for the three kinds of target; each cell coloured by its verdict (notebook 07)."""
    width = _LABEL_WIDTH + 3 * _CELL_WIDTH
    table_height = _TITLE_HEIGHT + _HEADER_HEIGHT + len(FUNCTIONS) * _ROW_HEIGHT
    height = 2 * table_height + _GAP
    below = 1.6  # inches for the legend and the footnote
    fig = plt.figure(figsize=(width * _INCH, height * _INCH + below + 0.5))
    ax = fig.add_axes((0.0, below / fig.get_figheight(), 1.0, height * _INCH / fig.get_figheight()))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()

    bottom = _draw_table(ax, height, "the input (with the target the function takes)", INPUT_KINDS)
    _draw_table(ax, bottom - _GAP, "the target (with the input the function takes)", TARGET_KINDS)

    handles = [Rectangle((0, 0), 1, 1, facecolor=colour) for colour, _ in VERDICTS.values()]
    fig.legend(
        handles,
        [label for _, label in VERDICTS.values()],
        loc="upper center",
        ncol=2,
        frameon=False,
        fontsize=10,
        bbox_to_anchor=(0.5, (below - 0.05) / fig.get_figheight()),
    )
    fig.text(0.5, 0.01, FOOTNOTE, ha="center", va="bottom", fontsize=9, color="0.3", linespacing=1.4)
    fig.suptitle("Which PyTorch loss takes what", fontsize=14, y=1 - 0.15 / fig.get_figheight())
    return fig
