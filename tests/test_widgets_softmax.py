"""losslab.widgets.softmax: the softmax explorer of notebook 01, driven from Python."""

import itertools
import re

import matplotlib.pyplot as plt
import pytest
import torch

import losslab
from losslab.widgets.softmax import SoftmaxExplorer, probability_parts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def readout_numbers(explorer):
    """The numbers the readout shows: one per class, then the sum."""
    return re.findall(r"= (-?\d+\.\d+)", explorer.readout.value)


def png(explorer):
    return bytes(explorer.image.value)  # ipywidgets holds it as a memoryview


def set_logits(explorer, values):
    for slider, value in zip(explorer.logit_sliders, values, strict=True):
        slider.value = value


def expected_probabilities(logits, temperature):
    return losslab.softmax(torch.tensor(logits, dtype=torch.float32) / temperature, dim=0)


def test_controls_have_labels_ranges_and_css_classes():
    explorer = SoftmaxExplorer()
    assert len(explorer.logit_sliders) == 4
    for i, slider in enumerate(explorer.logit_sliders):
        assert slider.description == f"logit z{'₀₁₂₃'[i]}"
        assert (slider.min, slider.max, slider.step) == (-10.0, 10.0, 0.1)
        assert f"losslab-logit-{i}" in slider._dom_classes
    temperature = explorer.temperature
    assert temperature.description == "temperature T"
    assert temperature.min > 0 and (temperature.min, temperature.max, temperature.step) == (0.1, 5.0, 0.05)
    assert "losslab-temperature" in temperature._dom_classes
    assert "losslab-readout" in explorer.readout.widget._dom_classes


def test_initial_readout_and_bars_show_softmax_of_the_initial_logits():
    explorer = SoftmaxExplorer()
    probs = expected_probabilities([2.0, 1.0, 0.1, -1.0], 1.0)
    assert readout_numbers(explorer) == ["0.6381", "0.2347", "0.0954", "0.0318", "1.0000"]
    assert readout_numbers(explorer)[:4] == [f"{p:.4f}" for p in probs.tolist()]
    assert explorer.bars.heights == probs.tolist()


@pytest.mark.parametrize(
    ("logits", "temperature"),
    [([3.5, -2.0, 0.0, 7.3], 0.65), ([0.0, 0.0, 0.0, 0.0], 1.0), ([-4.2, 9.9, 9.8, -10.0], 4.2), ([1.0, 2.0, 3.0, 4.0], 0.1)],
)
def test_readout_and_bars_follow_the_sliders(logits, temperature):
    explorer = SoftmaxExplorer()
    set_logits(explorer, logits)
    explorer.temperature.value = temperature
    probs = expected_probabilities(logits, temperature)
    assert readout_numbers(explorer) == [f"{p:.4f}" for p in probs.tolist()] + [f"{probs.sum():.4f}"]
    assert explorer.bars.heights == probs.tolist()
    torch.testing.assert_close(explorer.probabilities, probs, rtol=0, atol=0)


def test_image_is_a_png_that_changes_with_the_controls_and_is_reproducible():
    explorer = SoftmaxExplorer()
    initial = png(explorer)
    assert initial.startswith(PNG_SIGNATURE)
    explorer.logit_sliders[1].value = 5.0
    after_logit = png(explorer)
    assert after_logit != initial
    explorer.temperature.value = 3.0
    assert png(explorer) != after_logit
    explorer.logit_sliders[1].value = 1.0
    explorer.temperature.value = 1.0
    assert png(explorer) == initial  # same controls, same bytes
    assert png(SoftmaxExplorer()) == initial


EXTREME_LOGITS = [list(values) for values in itertools.product((-10.0, 10.0), repeat=4)]


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


def test_two_explorers_do_not_share_state():
    first, second = SoftmaxExplorer(), SoftmaxExplorer()
    readout, image, probs = second.readout.value, png(second), second.probabilities.clone()
    set_logits(first, [-7.0, 3.0, 3.0, 0.0])
    first.temperature.value = 0.3
    assert first.readout.value != readout
    assert (second.readout.value, png(second)) == (readout, image)
    assert torch.equal(second.probabilities, probs)
    assert second.temperature.value == 1.0 and second.logit_sliders[0].value == 2.0
    assert first.figure is not second.figure


def test_updates_create_no_figures_and_no_artists():
    figures_before = plt.get_fignums()
    explorer = SoftmaxExplorer()
    artists = list(explorer.bars.ax.get_children())
    for value in (-3.0, 0.0, 4.5):
        explorer.logit_sliders[2].value = value
        explorer.temperature.value = 1.0 + value / 10
    assert plt.get_fignums() == figures_before  # nothing for the inline backend to show
    assert list(explorer.bars.ax.get_children()) == artists


def test_displays_as_its_box_with_a_readable_fallback():
    explorer = SoftmaxExplorer()
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert bundle["text/plain"].startswith("SoftmaxExplorer")


def test_probability_parts_have_four_decimals_and_the_sum():
    assert probability_parts(torch.tensor([0.25, 0.75])) == ["p₀ = 0.2500", "p₁ = 0.7500", "sum = 1.0000"]
