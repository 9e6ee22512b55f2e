"""losslab.widgets.softmax: the softmax explorer of notebook 01, driven from Python.

Its controls, what it computes and shows, its extremes. What every explorer does alike (two explorers
share no state, updates make no new figures or artists, the PNG chart changes with each control and is
reproducible, the text fallback) is tested once for all of them in test_widgets_all.py.
"""

import pytest
import torch

import losslab
from explorers import EXTREME_LOGITS, assert_logit_sliders, readout_numbers, set_logits
from losslab.widgets.softmax import SoftmaxExplorer, probability_parts


def expected_probabilities(logits, temperature):
    return losslab.softmax(torch.tensor(logits, dtype=torch.float32) / temperature, dim=0)


def test_controls_have_labels_ranges_and_css_classes():
    explorer = SoftmaxExplorer()
    assert_logit_sliders(explorer)
    temperature = explorer.temperature
    assert temperature.description == "temperature T"
    assert temperature.min > 0 and (temperature.min, temperature.max, temperature.step) == (0.1, 5.0, 0.05)
    assert "losslab-temperature" in temperature._dom_classes


def test_initial_readout_and_bars_show_softmax_of_the_initial_logits():
    explorer = SoftmaxExplorer()
    probs = expected_probabilities([2.0, 1.0, 0.1, -1.0], 1.0)
    assert readout_numbers(explorer) == ["0.6381", "0.2347", "0.0954", "0.0318", "1.0000"]
    assert readout_numbers(explorer)[:4] == [f"{p:.4f}" for p in probs.tolist()]
    assert explorer.bars.heights == probs.tolist()


@pytest.mark.parametrize(
    ("logits", "temperature"),
    [
        ([3.5, -2.0, 0.0, 7.3], 0.65),
        ([0.0, 0.0, 0.0, 0.0], 1.0),
        ([-4.2, 9.9, 9.8, -10.0], 4.2),
        ([1.0, 2.0, 3.0, 4.0], 0.1),
    ],
)
def test_readout_and_bars_follow_the_sliders(logits, temperature):
    explorer = SoftmaxExplorer()
    set_logits(explorer, logits)
    explorer.temperature.value = temperature
    probs = expected_probabilities(logits, temperature)
    assert readout_numbers(explorer) == [f"{p:.4f}" for p in probs.tolist()] + [f"{probs.sum():.4f}"]
    assert explorer.bars.heights == probs.tolist()
    torch.testing.assert_close(explorer.probabilities, probs, rtol=0, atol=0)


@pytest.mark.parametrize("temperature", [0.1, 5.0])
def test_extreme_settings_give_finite_probabilities_summing_to_one(temperature):
    explorer = SoftmaxExplorer()
    explorer.temperature.value = temperature
    for logits in EXTREME_LOGITS:
        set_logits(explorer, logits)
        probs = explorer.probabilities
        assert probs.isfinite().all(), logits
        assert abs(float(probs.sum()) - 1.0) < 1e-6, logits
        assert readout_numbers(explorer)[-1] == "1.0000"
        assert "nan" not in explorer.readout.value and "-0.0000" not in explorer.readout.value


def test_out_of_range_values_are_clamped_not_errors():
    explorer = SoftmaxExplorer()
    explorer.temperature.value = 0.0
    assert explorer.temperature.value == explorer.temperature.min
    explorer.temperature.value = -3.0
    assert explorer.temperature.value == explorer.temperature.min
    set_logits(explorer, [1e9, -1e9, 1e30, -1e30])
    assert [slider.value for slider in explorer.logit_sliders] == [10.0, -10.0, 10.0, -10.0]
    assert explorer.probabilities.isfinite().all()
    assert readout_numbers(explorer) == ["0.5000", "0.0000", "0.5000", "0.0000", "1.0000"]


def test_a_temperature_that_is_not_positive_is_refused_at_construction():
    with pytest.raises(ValueError, match="min_temperature must be > 0"):
        SoftmaxExplorer(min_temperature=0.0)


def test_probability_parts_have_four_decimals_and_the_sum():
    assert probability_parts(torch.tensor([0.25, 0.75])) == ["p₀ = 0.2500", "p₁ = 0.7500", "sum = 1.0000"]
