"""losslab.widgets.class_weights: the class-weights explorer of notebook 07, driven from Python.

Its controls, what it computes and shows, its extremes. What every explorer does alike (two explorers
share no state, updates make no new figures or artists, the PNG chart changes with each control and is
reproducible, the text fallback) is tested once for all of them in test_widgets_all.py.
"""

import itertools
import math
import re

import pytest
import torch
import torch.nn.functional as F

import losslab
from losslab.widgets.class_weights import (
    ALL_WEIGHTS_ZERO,
    EXAMPLE_LOGITS,
    EXAMPLE_TARGETS,
    ClassWeightsExplorer,
)

LOGITS = torch.tensor(EXAMPLE_LOGITS)
TARGETS = torch.tensor(EXAMPLE_TARGETS)


def readout_parts(explorer):
    """{'weighted mean L (PyTorch)': '0.2626', 'naive mean': '0.5253', ...}: the readout as label -> text."""
    text = re.sub(r"<[^>]+>", "", explorer.readout.value)
    return dict(part.split(" = ", 1) for part in text.split(" &nbsp;·&nbsp; "))


def set_weights(explorer, values):
    for slider, value in zip(explorer.weight_sliders, values, strict=True):
        slider.value = value


def expected_means(weights, logits=LOGITS, targets=TARGETS):
    weight = torch.tensor(weights, dtype=torch.float32)
    weighted_losses = F.cross_entropy(logits, targets, weight=weight, reduction="none")
    return float(F.cross_entropy(logits, targets, weight=weight)), float(weighted_losses.mean()), weighted_losses


def test_controls_have_labels_ranges_and_css_classes():
    explorer = ClassWeightsExplorer()
    assert len(explorer.weight_sliders) == 3
    for i, slider in enumerate(explorer.weight_sliders):
        assert slider.description == f"weight w{'₀₁₂'[i]}"
        assert (slider.min, slider.max, slider.step) == (0.0, 5.0, 0.1)
        assert f"losslab-weight-{i}" in slider._dom_classes
    assert [s.value for s in explorer.weight_sliders] == [1.0, 2.0, 3.0]


def test_initial_state_is_the_notebooks_example():
    explorer = ClassWeightsExplorer()
    parts = readout_parts(explorer)
    assert parts["weighted mean L (PyTorch)"] == "0.2626"
    assert parts["naive mean"] == "0.5253"
    assert parts["Σ w_yₙ·ℓₙ"] == "1.5758"
    assert parts["Σ w_yₙ"] == "6.0000"
    assert parts["N"] == "3"
    assert [f"{v:.5f}" for v in explorer.weighted_losses.tolist()] == ["0.41703", "0.44010", "0.71863"]
    assert f"{explorer.weighted_mean:.4f}" == "0.2626" and f"{explorer.naive_mean:.4f}" == "0.5253"


@pytest.mark.parametrize(
    "weights", [(1.0, 1.0, 1.0), (4.0, 4.0, 4.0), (5.0, 0.1, 0.1), (0.0, 2.5, 0.3), (0.7, 3.3, 5.0)]
)
def test_readout_bars_and_lines_follow_the_sliders(weights):
    explorer = ClassWeightsExplorer()
    set_weights(explorer, weights)
    weighted, naive, weighted_losses = expected_means(weights)
    parts = readout_parts(explorer)
    assert parts["weighted mean L (PyTorch)"] == f"{weighted:.4f}"
    assert parts["naive mean"] == f"{naive:.4f}"
    assert parts["Σ w_yₙ"] == f"{sum(weights[t] for t in EXAMPLE_TARGETS):.4f}"
    assert explorer.weighted_mean == pytest.approx(weighted, abs=1e-6)
    assert explorer.naive_mean == pytest.approx(naive, abs=1e-6)
    torch.testing.assert_close(explorer.weighted_losses, weighted_losses, rtol=0, atol=1e-6)
    assert explorer.bars.heights == pytest.approx(weighted_losses.tolist(), abs=1e-6)
    assert list(explorer.weighted_line.get_ydata()) == pytest.approx([weighted, weighted])
    assert list(explorer.naive_line.get_ydata()) == pytest.approx([naive, naive])
    assert explorer.weighted_line.get_visible()
    assert f"{weighted:.4f}" in explorer.weighted_text.get_text()
    assert f"{naive:.4f}" in explorer.naive_text.get_text()


def test_the_weighted_mean_ignores_a_common_scale_and_the_naive_mean_does_not():
    explorer = ClassWeightsExplorer()
    set_weights(explorer, (1.0, 1.0, 1.0))
    plain_weighted, plain_naive = explorer.weighted_mean, explorer.naive_mean
    assert f"{plain_weighted:.4f}" == f"{plain_naive:.4f}" == f"{float(F.cross_entropy(LOGITS, TARGETS)):.4f}"
    set_weights(explorer, (4.0, 4.0, 4.0))
    assert explorer.weighted_mean == pytest.approx(plain_weighted, abs=1e-6)
    assert explorer.naive_mean == pytest.approx(4 * plain_naive, abs=1e-5)


def test_all_weights_zero_shows_nan_as_text():
    explorer = ClassWeightsExplorer()
    set_weights(explorer, (0.0, 0.0, 0.0))
    assert math.isnan(explorer.weighted_mean)
    assert F.cross_entropy(LOGITS, TARGETS, weight=torch.zeros(3)).isnan()  # what PyTorch gives
    parts = readout_parts(explorer)
    assert parts["weighted mean L (PyTorch)"] == ALL_WEIGHTS_ZERO == "nan: every target weight is 0"
    assert parts["naive mean"] == "0.0000"
    assert not explorer.weighted_line.get_visible()
    assert ALL_WEIGHTS_ZERO in explorer.weighted_text.get_text()
    explorer.weight_sliders[1].value = 2.0  # back to a number
    assert explorer.weighted_line.get_visible()
    assert (
        readout_parts(explorer)["weighted mean L (PyTorch)"]
        == f"{float(F.cross_entropy(LOGITS[1:2], TARGETS[1:2])):.4f}"
    )


def test_extreme_and_out_of_range_settings_give_no_traceback_nor_stray_nan():
    explorer = ClassWeightsExplorer()
    for weights in itertools.product((0.0, 0.1, 5.0), repeat=3):
        set_weights(explorer, weights)
        text = explorer.readout.value
        assert "-0.0000" not in text and "inf" not in text
        if any(weights):
            assert "nan" not in text
            assert explorer.weighted_mean <= float(explorer.losses.max()) + 1e-6  # a weighted average of the losses
            assert explorer.weighted_mean >= float(explorer.losses.min()) - 1e-6
    set_weights(explorer, (-3.0, 1e9, float("1e30")))
    assert [s.value for s in explorer.weight_sliders] == [0.0, 5.0, 5.0]
    assert readout_parts(explorer)["weighted mean L (PyTorch)"] == f"{expected_means((0.0, 5.0, 5.0))[0]:.4f}"


def test_other_examples_and_their_validation():
    logits = torch.tensor([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5], [1.0, 3.0]])
    targets = [1, 1, 0, 1]  # class 0 is the target of one sample, class 1 of three
    explorer = ClassWeightsExplorer(logits, targets, weights=(2.0, 0.5), max_weight=3.0)
    assert [s.max for s in explorer.weight_sliders] == [3.0, 3.0]
    weighted, naive, _ = expected_means((2.0, 0.5), logits, torch.tensor(targets))
    assert explorer.weighted_mean == pytest.approx(weighted, abs=1e-6)
    assert explorer.naive_mean == pytest.approx(naive, abs=1e-6)
    explorer.weight_sliders[0].value = 0.0
    explorer.weight_sliders[1].value = 0.0
    assert readout_parts(explorer)["weighted mean L (PyTorch)"] == ALL_WEIGHTS_ZERO
    with pytest.raises(ValueError, match="one weight per class"):
        ClassWeightsExplorer(weights=(1.0, 2.0))
    with pytest.raises(ValueError, match=r"classes in 0\.\.2"):
        ClassWeightsExplorer(targets=(0, 1, 3))
    with pytest.raises(ValueError, match=r"logits of shape \(N, C\)"):
        ClassWeightsExplorer(targets=(0, 1))
    with pytest.raises(ValueError, match="max_weight must be > 0"):
        ClassWeightsExplorer(max_weight=0.0)


def test_uses_losslab_and_agrees_with_torch():
    explorer = ClassWeightsExplorer()
    set_weights(explorer, (2.2, 0.3, 4.1))
    weight = torch.tensor([2.2, 0.3, 4.1])
    assert explorer.weighted_mean == float(losslab.cross_entropy(LOGITS, TARGETS, weight=weight))
    assert explorer.weighted_mean == pytest.approx(float(F.cross_entropy(LOGITS, TARGETS, weight=weight)), abs=1e-6)
