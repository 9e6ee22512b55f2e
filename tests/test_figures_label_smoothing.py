"""losslab.figures.label_smoothing: the loss against the logit gap, and the optimal gap against alpha."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from losslab.figures import FIGURES
from losslab.figures.label_smoothing import (
    CLASS_COUNTS,
    EXAMPLE_ALPHAS,
    EXAMPLE_CLASSES,
    smoothed_loss_against_gap,
)


@pytest.fixture
def figure():
    fig = smoothed_loss_against_gap()
    yield fig
    plt.close(fig)


def torch_loss(gap, alpha, n_classes):
    logits = torch.zeros(1, n_classes, dtype=torch.float64)
    logits[0, 0] = gap
    return F.cross_entropy(logits, torch.tensor([0]), label_smoothing=alpha).item()


def test_is_registered_under_its_file_name():
    assert FIGURES["06_smoothing_optimal_gap.png"] is smoothed_loss_against_gap


def test_left_panel_draws_the_loss_of_each_alpha_with_its_minimum(figure):
    curves_ax = figure.axes[0]
    lines = curves_ax.get_lines()
    curves = [line for line in lines if line.get_linestyle() in ("-", "--") and len(line.get_xdata()) > 1]
    markers = [line for line in lines if line.get_marker() == "o"]
    assert len(curves) == len(EXAMPLE_ALPHAS)
    assert len(markers) == sum(alpha > 0 for alpha in EXAMPLE_ALPHAS)  # alpha = 0 has no minimum
    for curve, alpha in zip(curves, EXAMPLE_ALPHAS, strict=True):
        gaps, losses = curve.get_xdata(), curve.get_ydata()
        for i in (0, len(gaps) // 3, len(gaps) - 1):
            assert losses[i] == pytest.approx(torch_loss(float(gaps[i]), alpha, EXAMPLE_CLASSES), rel=1e-12)
        assert (curve.get_linestyle() == "--") == (alpha == 0)
    for marker, alpha in zip(markers, [a for a in EXAMPLE_ALPHAS if a > 0], strict=True):
        (gap,), (loss,) = marker.get_data()
        q_true, q_other = 1 - alpha + alpha / EXAMPLE_CLASSES, alpha / EXAMPLE_CLASSES
        assert gap == pytest.approx(math.log(q_true / q_other))
        assert loss == pytest.approx(torch_loss(gap, alpha, EXAMPLE_CLASSES), rel=1e-12)
    labels = [text.get_text() for text in curves_ax.get_legend().get_texts()]
    assert labels[0] == "α = 0: g* = ∞" and labels[2] == "α = 0.1: g* = 3.83"


def test_without_smoothing_the_drawn_loss_keeps_falling(figure):
    unsmoothed = figure.axes[0].get_lines()[0]
    assert (np.diff(unsmoothed.get_ydata()) < 0).all()


def test_right_panel_draws_the_optimal_gap_against_alpha(figure):
    gap_ax = figure.axes[1]
    assert gap_ax.get_xscale() == "log"
    lines = gap_ax.get_lines()
    assert [line.get_label() for line in lines] == [f"C = {c}" for c in CLASS_COUNTS]
    for line, c in zip(lines, CLASS_COUNTS, strict=True):
        alphas, gaps = line.get_xdata(), line.get_ydata()
        expected = np.log((1 - alphas + alphas / c) / (alphas / c))
        np.testing.assert_allclose(gaps, expected, rtol=1e-12)
        assert gaps[-1] == pytest.approx(0.0) and (np.diff(gaps) < 0).all()


def test_takes_other_alphas_and_class_counts():
    fig = smoothed_loss_against_gap(alphas=(0.3,), num_classes=3, class_counts=(4,))
    try:
        assert len([line for line in fig.axes[0].get_lines() if line.get_marker() == "o"]) == 1
        assert "C = 3" in fig.axes[0].get_xlabel()
        assert [line.get_label() for line in fig.axes[1].get_lines()] == ["C = 4"]
    finally:
        plt.close(fig)
