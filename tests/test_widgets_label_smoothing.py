"""losslab.widgets.label_smoothing: the label-smoothing explorer of notebook 06, driven from Python.

Its controls, what it computes and shows, its extremes. What every explorer does alike (two explorers
share no state, updates make no new figures or artists, the PNG chart changes with each control and is
reproducible, the text fallback) is tested once for all of them in test_widgets_all.py.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import losslab
from explorers import readout_numbers
from losslab.label_smoothing import optimal_logit_gap
from losslab.widgets.label_smoothing import MAX_CLASSES, NO_MINIMUM, LabelSmoothingExplorer, smoothing_parts


def set_controls(explorer, alpha, n_classes):
    explorer.alpha.value = alpha
    explorer.classes.value = n_classes


def torch_loss_of_gap(gap, alpha, n_classes):
    logits = torch.zeros(1, n_classes, dtype=torch.float64)
    logits[0, 0] = gap
    return F.cross_entropy(logits, torch.tensor([0]), label_smoothing=alpha).item()


def test_controls_have_labels_ranges_and_css_classes():
    explorer = LabelSmoothingExplorer()
    alpha, classes = explorer.alpha, explorer.classes
    assert alpha.description == "smoothing α"
    assert (alpha.min, alpha.max, alpha.step, alpha.value) == (0.0, 1.0, 0.01, 0.1)
    assert "losslab-alpha" in alpha._dom_classes
    assert classes.description == "classes C"
    assert (classes.min, classes.max, classes.step, classes.value) == (2, MAX_CLASSES, 1, 5)
    assert "losslab-classes" in classes._dom_classes


def test_initial_readout_shows_the_numbers_of_the_notebook():
    explorer = LabelSmoothingExplorer()
    assert readout_numbers(explorer) == ["0.9200", "0.0200", "3.8286", "0.3897"]
    assert explorer.optimal_gap == pytest.approx(math.log(46))


@pytest.mark.parametrize(("alpha", "n_classes"), [(0.1, 5), (0.37, 2), (0.01, 10), (0.5, 7), (1.0, 3), (1.0, 10)])
def test_readout_bars_and_curve_follow_the_controls_and_match_torch(alpha, n_classes):
    explorer = LabelSmoothingExplorer()
    set_controls(explorer, alpha, n_classes)
    q = F.one_hot(torch.tensor(0), n_classes).double() * (1 - alpha) + alpha / n_classes
    torch.testing.assert_close(explorer.smoothed_target, q)
    gap = optimal_logit_gap(alpha, n_classes)
    assert explorer.optimal_gap == gap
    loss_at_gap = torch_loss_of_gap(gap, alpha, n_classes)
    assert explorer.loss_at_optimum == pytest.approx(loss_at_gap, rel=1e-12)
    expected = [f"{q[0]:.4f}", f"{q[1]:.4f}", f"{gap:.4f}".replace("-0.0000", "0.0000"), f"{loss_at_gap:.4f}"]
    assert readout_numbers(explorer) == expected
    # Bars: the first C show q, the rest are hidden (and zero).
    heights = explorer.bars.heights
    assert heights[:n_classes] == pytest.approx(q.tolist())
    assert heights[n_classes:] == [0.0] * (MAX_CLASSES - n_classes)
    assert [bar.get_visible() for bar in explorer.bars.bars] == [c < n_classes for c in range(MAX_CLASSES)]
    assert [label.get_visible() for label in explorer.class_labels] == [c < n_classes for c in range(MAX_CLASSES)]
    # Curve: torch's loss at every gap; the marker at the minimum, which no grid point undercuts.
    curve = explorer.curve.line.get_ydata()
    for i in (0, 60, 120, 240):
        assert curve[i] == pytest.approx(torch_loss_of_gap(float(explorer.gaps[i]), alpha, n_classes), rel=1e-12)
    assert explorer.curve.marker.get_visible()
    marker_x, marker_y = explorer.curve.marker.get_data()
    assert (marker_x[0], marker_y[0]) == pytest.approx((gap, loss_at_gap))
    assert curve.min() >= loss_at_gap - 1e-12
    reference = explorer.reference.line.get_ydata()
    assert reference[120] == pytest.approx(torch_loss_of_gap(float(explorer.gaps[120]), 0.0, n_classes), rel=1e-12)


def test_at_alpha_one_the_target_is_uniform_and_the_minimum_is_at_gap_zero():
    explorer = LabelSmoothingExplorer()
    for n_classes in range(2, MAX_CLASSES + 1):
        set_controls(explorer, 1.0, n_classes)
        torch.testing.assert_close(
            explorer.smoothed_target, torch.full((n_classes,), 1 / n_classes, dtype=torch.float64)
        )
        assert explorer.optimal_gap == 0.0
        assert explorer.loss_at_optimum == pytest.approx(math.log(n_classes))
        assert readout_numbers(explorer)[2:] == ["0.0000", f"{math.log(n_classes):.4f}"]


@pytest.mark.parametrize("n_classes", [2, 5, 10])
def test_without_smoothing_there_is_no_minimum_and_no_inf_in_the_readout(n_classes):
    explorer = LabelSmoothingExplorer()
    set_controls(explorer, 0.0, n_classes)
    assert explorer.optimal_gap == math.inf and explorer.loss_at_optimum is None
    assert readout_numbers(explorer) == ["1.0000", "0.0000"]
    text = explorer.readout.value
    assert NO_MINIMUM in text and "inf" not in text and "nan" not in text
    assert not explorer.curve.marker.get_visible() and not explorer.optimum_line.get_visible()
    assert explorer.no_minimum_text.get_visible()
    curve = explorer.curve.line.get_ydata()
    assert np.isfinite(curve).all() and (np.diff(curve) < 0).all()  # keeps falling
    explorer.alpha.value = 0.01
    assert explorer.curve.marker.get_visible() and not explorer.no_minimum_text.get_visible()


def test_every_setting_gives_finite_numbers_and_no_negative_zero():
    explorer = LabelSmoothingExplorer()
    for n_classes in range(2, MAX_CLASSES + 1):
        for alpha in np.linspace(0, 1, 11):
            set_controls(explorer, float(alpha), n_classes)
            text = explorer.readout.value
            assert "nan" not in text and "inf" not in text and "-0.0000" not in text, (alpha, n_classes)
            assert np.isfinite(explorer.curve.line.get_ydata()).all()
            assert abs(float(explorer.smoothed_target.sum()) - 1) < 1e-12


def test_out_of_range_values_are_clamped_not_errors():
    explorer = LabelSmoothingExplorer()
    explorer.alpha.value = -0.5
    assert explorer.alpha.value == 0.0 and explorer.optimal_gap == math.inf
    explorer.alpha.value = 3.0
    assert explorer.alpha.value == 1.0 and explorer.optimal_gap == 0.0
    explorer.classes.value = 50
    assert explorer.classes.value == MAX_CLASSES
    explorer.classes.value = 0
    assert explorer.classes.value == 2
    assert readout_numbers(explorer) == ["0.5000", "0.5000", "0.0000", f"{math.log(2):.4f}"]


def test_a_tiny_alpha_puts_the_minimum_beyond_the_axes_without_errors():
    explorer = LabelSmoothingExplorer()
    set_controls(explorer, 1e-6, 10)
    assert explorer.optimal_gap > explorer.gaps.max().item()
    assert readout_numbers(explorer)[2] == f"{optimal_logit_gap(1e-6, 10):.4f}"


def test_the_loss_at_the_optimum_is_what_losslab_computes():
    explorer = LabelSmoothingExplorer()
    set_controls(explorer, 0.25, 4)
    logits = torch.tensor([[explorer.optimal_gap, 0.0, 0.0, 0.0]], dtype=torch.float64)
    expected = losslab.cross_entropy(logits, torch.tensor([0]), label_smoothing=0.25).item()
    assert explorer.loss_at_optimum == pytest.approx(expected, rel=1e-12)


def test_axes_keep_fixed_limits():
    explorer = LabelSmoothingExplorer()
    for alpha, n_classes in ((0.0, 2), (0.5, 10), (1.0, 3), (0.05, 6)):
        set_controls(explorer, alpha, n_classes)
    assert [ax.get_xlim() for ax in explorer.figure.axes] == [(-0.6, MAX_CLASSES - 0.4), (-2.0, 10.0)]
    assert [ax.get_ylim() for ax in explorer.figure.axes] == [(0.0, 1.15), (0.0, 3.5)]


def test_smoothing_parts_have_four_decimals_and_words_instead_of_inf():
    q = torch.tensor([0.92, 0.02, 0.02, 0.02, 0.02])
    assert smoothing_parts(q, math.log(46), 0.38967) == [
        "q_true = 0.9200",
        "q_other = 0.0200",
        "optimal gap g* = 3.8286",
        "ℓ(g*) = 0.3897",
    ]
    assert smoothing_parts(q, -1e-9, 1.0)[2] == "optimal gap g* = 0.0000"
    assert smoothing_parts(torch.tensor([1.0, 0.0]), math.inf, None)[2].startswith("optimal gap: none")
