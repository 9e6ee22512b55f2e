"""losslab.figures.cross_entropy: notebook 02's figure shows the worked example's probabilities and losses."""

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgba

from losslab.figures import FIGURES
from losslab.figures.cross_entropy import (
    OTHER_COLOR,
    TARGET_COLOR,
    WORKED_LOGITS,
    WORKED_TARGETS,
    worked_example_losses,
)


@pytest.fixture
def drawn():
    """The figure with its default arguments, closed afterwards."""
    fig = worked_example_losses()
    yield fig
    plt.close(fig)


def test_is_registered_under_its_notebook_number():
    assert FIGURES["02_worked_example_losses.png"] is worked_example_losses


def test_the_defaults_are_the_curriculum_worked_example():
    assert WORKED_LOGITS == ((7.4, 2.8, -0.6, 6.3), (-1.9, 4.2, 3.9, 5.1), (9.3, -5.3, 7.2, -8.4))
    assert WORKED_TARGETS == (3, 0, 2)


def test_one_bar_panel_per_sample_shows_its_softmax_with_the_target_in_red(drawn):
    logits = torch.tensor(WORKED_LOGITS)
    probs = torch.softmax(logits, dim=1)
    losses = F.cross_entropy(logits, torch.tensor(WORKED_TARGETS), reduction="none")
    bar_axes = drawn.axes[:3]
    assert len(drawn.axes) == 4
    for n, ax in enumerate(bar_axes):
        heights = torch.tensor([bar.get_height() for bar in ax.patches])
        torch.testing.assert_close(heights, probs[n], rtol=0, atol=1e-6)
        colors = [bar.get_facecolor() for bar in ax.patches]
        target = WORKED_TARGETS[n]
        assert colors[target] == to_rgba(TARGET_COLOR)
        assert all(color == to_rgba(OTHER_COLOR) for c, color in enumerate(colors) if c != target)
        assert ax.get_title() == f"sample {n}: $y = {target}$\n$\\ell = -\\log p_y$ = {float(losses[n]):.4f}"
    assert [ax.get_title().splitlines()[1] for ax in bar_axes] == [
        r"$\ell = -\log p_y$ = 1.3951",
        r"$\ell = -\log p_y$ = 7.5357",
        r"$\ell = -\log p_y$ = 2.2155",
    ]


def test_the_curve_panel_marks_each_sample_on_minus_log_p_and_the_mean(drawn):
    ax = drawn.axes[3]
    curve, points, mean_line = ax.get_lines()
    p, surprise = curve.get_data()
    torch.testing.assert_close(torch.as_tensor(surprise), -torch.as_tensor(p).log(), rtol=1e-12, atol=0)
    x, y = points.get_data()
    logits, targets = torch.tensor(WORKED_LOGITS), torch.tensor(WORKED_TARGETS)
    target_probs = torch.softmax(logits, dim=1)[torch.arange(3), targets]
    torch.testing.assert_close(torch.as_tensor(x), target_probs, rtol=0, atol=1e-7)
    torch.testing.assert_close(torch.as_tensor(y), -target_probs.log(), rtol=1e-6, atol=1e-6)
    assert mean_line.get_ydata()[0] == pytest.approx(3.7154, abs=5e-5)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [r"$\ell = -\log p_y$", "the samples", "mean loss $L$ = 3.7154"]
    annotations = sorted(child.get_text() for child in ax.texts)
    assert annotations == ["sample 0: $p_y$ = 0.2478", "sample 1: $p_y$ = 0.0005", "sample 2: $p_y$ = 0.1091"]
    assert ax.get_ylim()[1] > max(y)  # every sample is inside the axes


def test_takes_any_batch():
    fig = worked_example_losses([[0.0, 1.0, 2.0], [20.0, 0.0, 0.0]], [2, 1])
    try:
        assert len(fig.axes) == 3
        assert fig.axes[1].get_title() == "sample 1: $y = 1$\n$\\ell = -\\log p_y$ = 20.0000"
        x, y = fig.axes[2].get_lines()[1].get_data()
        assert fig.axes[2].get_ylim()[1] > max(y)
    finally:
        plt.close(fig)


def test_labels_use_the_course_notation(drawn):
    """p the model's distribution, y the true class, ℓ the per-sample loss, L the mean (notation.md)."""
    assert drawn.axes[0].get_ylabel() == r"$p = \mathrm{softmax}(z)$"
    ax = drawn.axes[3]
    assert ax.get_title() == r"cross-entropy $\ell = -\log p_y$"
    assert (ax.get_xlabel(), ax.get_ylabel()) == (r"probability of the true class, $p_y$", r"loss $\ell$")
