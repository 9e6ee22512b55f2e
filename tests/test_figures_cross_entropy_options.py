"""losslab.figures.cross_entropy_options: notebook 07's figure shows PyTorch's weighted mean and the naive mean."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from losslab.figures import FIGURES
from losslab.figures.cross_entropy_options import (
    EXAMPLE_LOGITS,
    EXAMPLE_TARGETS,
    EXAMPLE_WEIGHTS,
    weighted_and_naive_means,
    weighted_vs_naive_mean,
)

LOGITS = torch.tensor(EXAMPLE_LOGITS)
TARGETS = torch.tensor(EXAMPLE_TARGETS)
WEIGHTS = torch.tensor(EXAMPLE_WEIGHTS)


@pytest.fixture
def figure():
    fig = weighted_vs_naive_mean()
    yield fig
    plt.close(fig)


def torch_means(weight_rows, logits=LOGITS, targets=TARGETS):
    weighted = [float(F.cross_entropy(logits, targets, weight=w)) for w in weight_rows]
    naive = [float(F.cross_entropy(logits, targets, weight=w, reduction="none").mean()) for w in weight_rows]
    return np.array(weighted), np.array(naive)


def curves(ax):
    """(x, weighted mean, naive mean) of a panel: its first two lines."""
    weighted, naive = ax.get_lines()[:2]
    return np.asarray(weighted.get_xdata()), np.asarray(weighted.get_ydata()), np.asarray(naive.get_ydata())


def test_is_registered_under_the_notebooks_number():
    assert FIGURES["07_weighted_vs_naive_mean.png"] is weighted_vs_naive_mean


def test_left_panel_varies_the_weight_of_class_0(figure):
    left = figure.axes[0]
    x, weighted, naive = curves(left)
    assert x[0] == 0.0 and x[-1] == pytest.approx(5.0)  # w0 = 0 is fine: the other targets keep their weights
    rows = WEIGHTS.repeat(len(x), 1)
    rows[:, 0] = torch.tensor(x, dtype=torch.float32)
    expected_weighted, expected_naive = torch_means(rows)
    np.testing.assert_allclose(weighted, expected_weighted, rtol=0, atol=1e-6)
    np.testing.assert_allclose(naive, expected_naive, rtol=0, atol=1e-6)
    assert "w0" in left.get_xlabel() and "w1 = 2, w2 = 3" in left.get_xlabel()


def test_right_panel_scales_every_weight(figure):
    right = figure.axes[1]
    scales, weighted, naive = curves(right)
    expected_weighted, expected_naive = torch_means(torch.tensor(scales, dtype=torch.float32)[:, None] * WEIGHTS)
    np.testing.assert_allclose(weighted, expected_weighted, rtol=0, atol=1e-6)
    np.testing.assert_allclose(naive, expected_naive, rtol=0, atol=1e-6)
    assert np.ptp(weighted) < 1e-6  # a common scale changes nothing
    np.testing.assert_allclose(naive / scales, naive[0] / scales[0], rtol=1e-5)  # the naive mean is proportional
    assert "[1, 2, 3]" in right.get_xlabel()


def test_marks_the_notebooks_numbers_on_both_panels(figure):
    for ax, x0 in zip(figure.axes, (1.0, 1.0), strict=True):
        marker = ax.get_lines()[2]
        assert list(marker.get_xdata()) == [x0, x0]
        assert [f"{y:.4f}" for y in marker.get_ydata()] == ["0.2626", "0.5253"]
        texts = [t.get_text() for t in ax.texts]
        assert "0.2626" in texts and "0.5253" in texts


def test_the_weighted_mean_stays_between_the_smallest_and_largest_loss(figure):
    losses = F.cross_entropy(LOGITS, TARGETS, reduction="none")
    for ax in figure.axes:
        _, weighted, _ = curves(ax)
        assert weighted.min() >= float(losses.min()) - 1e-6 and weighted.max() <= float(losses.max()) + 1e-6
        bands = sorted(line.get_ydata()[0] for line in ax.get_lines()[3:])
        assert bands == pytest.approx([float(losses.min()), float(losses.max())])
    assert "largest unweighted loss ℓ: 0.4170" in [t.get_text() for t in figure.axes[1].texts]


def test_weighted_and_naive_means_match_torch():
    rows = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5], [0.0, 1.0, 0.0]])
    weighted, naive = weighted_and_naive_means(LOGITS, TARGETS, rows)
    expected_weighted, expected_naive = torch_means(rows)
    np.testing.assert_allclose(weighted.numpy(), expected_weighted, rtol=0, atol=1e-6)
    np.testing.assert_allclose(naive.numpy(), expected_naive, rtol=0, atol=1e-6)


def test_takes_another_example_and_class():
    logits = torch.tensor([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    fig = weighted_vs_naive_mean(logits, [1, 1, 0], (2.0, 0.5), varied_class=1, max_weight=3.0)
    try:
        x, weighted, _ = curves(fig.axes[0])
        assert x[-1] == pytest.approx(3.0)
        assert fig.axes[0].get_xlabel().startswith("weight w1 of class 1 (w0 = 2)")
        rows = torch.tensor([[2.0, float(v)] for v in x])
        np.testing.assert_allclose(weighted, torch_means(rows, logits, torch.tensor([1, 1, 0]))[0], rtol=0, atol=1e-6)
    finally:
        plt.close(fig)
