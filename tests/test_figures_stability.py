"""losslab.figures.stability: where -log(softmax(s·z)) and its gradient break, by dtype (notebook 03)."""

import matplotlib.pyplot as plt
import pytest
import torch

from losslab.figures import FIGURES
from losslab.figures.stability import DTYPES, break_scales, where_log_softmax_breaks

EXPECTED = {torch.float16: (6, 9), torch.bfloat16: (45, 47), torch.float32: (45, 52), torch.float64: (355, 373)}


def torch_break_scales(dtype, base=(1.0, 0.0, -1.0), target=2, max_scale=1000):
    """The same scan with PyTorch's own softmax, one scale at a time."""
    gradient_break = loss_break = None
    for scale in range(1, max_scale + 1):
        z = (scale * torch.tensor(base, dtype=torch.float64)).to(dtype).requires_grad_()
        loss = -torch.softmax(z, dim=0).log()[target]
        loss.backward()
        if gradient_break is None and not z.grad.isfinite().all():
            gradient_break = scale
        if loss_break is None and not loss.isfinite():
            loss_break = scale
        if gradient_break and loss_break:
            break
    return gradient_break, loss_break


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_break_scales_are_pytorchs(dtype):
    assert break_scales(dtype) == EXPECTED[dtype] == torch_break_scales(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_log_softmax_is_finite_everywhere_as_the_figure_says(dtype):
    scales = torch.arange(1, 1001, dtype=torch.float64)
    z = (scales[:, None] * torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)).to(dtype).requires_grad_()
    losses = -torch.log_softmax(z, dim=1)[:, 2]
    losses.sum().backward()
    assert losses.isfinite().all() and z.grad.isfinite().all()


def test_break_scales_for_other_logits():
    assert break_scales(torch.float32, base_logits=(2.0, 0.0), target=1, max_scale=100) == (45, 52)
    assert break_scales(torch.float32, target=0) == (52, None)  # the loss never breaks, its gradient does
    assert break_scales(torch.float64, max_scale=100) == (None, None)


def segments(ax):
    """Per row (top to bottom), the (start, stop, colour) of its bars."""
    rows = {}
    for bar in ax.patches:
        row = round(bar.get_y() + bar.get_height() / 2)
        rows.setdefault(row, []).append((bar.get_x(), bar.get_x() + bar.get_width(), bar.get_facecolor()))
    return [sorted(rows[row]) for row in sorted(rows)]


def test_figure_shows_each_dtypes_break_points():
    fig = where_log_softmax_breaks()
    try:
        ax, right = fig.axes
        rows = segments(ax)
        assert len(rows) == len(DTYPES) + 1
        green, orange, red = rows[0][0][2], rows[0][1][2], rows[0][2][2]
        for dtype, row in zip(DTYPES, rows[:-1], strict=True):
            gradient_break, loss_break = EXPECTED[dtype]
            assert [(start, stop) for start, stop, _ in row] == [
                (1, gradient_break),
                (gradient_break, loss_break),
                (loss_break, 1001),
            ]
            assert [colour for _, _, colour in row] == [green, orange, red]
        assert [(start, stop, colour) for start, stop, colour in rows[-1]] == [(1, 1001, green)]
        labels = [label.get_text() for label in ax.get_yticklabels()]
        assert labels == [f"log(softmax), {str(d).removeprefix('torch.')}" for d in DTYPES] + ["log_softmax"]
        assert [label.get_text() for label in right.get_yticklabels()] == [
            "6 / 9",
            "45 / 47",
            "45 / 52",
            "355 / 373",
            "never",
        ]
        assert ax.get_xscale() == "log" and ax.get_xlim() == (1, 1001)
        assert [text.get_text() for text in ax.get_legend().get_texts()] == [
            "naive loss and gradient finite",
            "naive gradient inf or nan",
            "naive loss inf",
        ]
        assert "[1, 0, -1]" in ax.get_xlabel() and "loss ℓ for target y = 2" in ax.get_xlabel()
        assert (
            ax.get_title() == "Where ℓ = −log(softmax(z)₂) breaks: once p₂ underflows to 0 (its gradient even earlier)"
        )
    finally:
        plt.close(fig)


def test_figure_takes_other_dtypes_and_logits():
    fig = where_log_softmax_breaks(base_logits=(1.0, 0.0), target=1, dtypes=(torch.float64,), max_scale=100)
    try:
        ax, right = fig.axes
        assert [(start, stop) for start, stop, _ in segments(ax)[0]] == [(1, 101)]  # nothing breaks before 100
        assert [label.get_text() for label in right.get_yticklabels()] == ["never / never", "never"]
        assert "[1, 0]" in ax.get_xlabel()
    finally:
        plt.close(fig)


def test_registered_as_a_course_figure():
    assert FIGURES["03_where_log_softmax_breaks.png"] is where_log_softmax_breaks
