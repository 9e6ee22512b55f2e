"""losslab.widgets.gradients: the gradient explorer of notebook 04, driven from Python.

Its controls, what it computes and shows, its extremes. What every explorer does alike (two explorers
share no state, updates make no new figures or artists, the PNG chart changes with each control and is
reproducible, the text fallback) is tested once for all of them in test_widgets_all.py.
"""

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from explorers import EXTREME_LOGITS, assert_logit_sliders, assert_target_selector, readout_numbers, set_logits
from losslab.widgets.gradients import COLORS, GradientExplorer, gradient_parts


def expected_gradient(logits, target):
    """p - e_y with p = softmax(z), from torch, for the float32 slider values computed in float64."""
    z = torch.tensor(logits, dtype=torch.float32).double()
    return torch.softmax(z, dim=0) - F.one_hot(torch.tensor(target), len(logits)).double()


def as_text(values):
    return [f"{v:.4f}".replace("-0.0000", "0.0000") for v in values]


def test_controls_have_labels_ranges_and_css_classes():
    explorer = GradientExplorer()
    assert_logit_sliders(explorer)
    assert_target_selector(explorer)
    assert explorer.controls() == [*explorer.logit_sliders, explorer.target_selector.widget]


def test_both_charts_have_fixed_limits_of_about_one():
    explorer = GradientExplorer()
    for bars in (explorer.hand_bars, explorer.autograd_bars):
        assert bars.ax.get_ylim() == (-1.15, 1.15)


def test_initial_readout_and_bars_show_softmax_minus_one_hot():
    explorer = GradientExplorer()
    gradient = expected_gradient([2.0, 1.0, 0.1, -1.0], 0)
    assert readout_numbers(explorer) == ["-0.3619", "0.2347", "0.0954", "0.0318", "0.0000", "0.4493"]
    assert readout_numbers(explorer)[:4] == as_text(gradient.tolist())
    assert "hand = autograd: yes" in explorer.readout.value
    assert explorer.hand_bars.heights == explorer.gradient.tolist()
    assert explorer.autograd_bars.heights == explorer.autograd_gradient.tolist()


@pytest.mark.parametrize(
    ("logits", "target"),
    [([3.5, -2.0, 0.0, 7.3], 0), ([0.0, 0.0, 0.0, 0.0], 2), ([-4.2, 9.9, 9.8, -10.0], 1), ([1.0, 2.0, 3.0, 4.0], 3)],
)
def test_readout_and_bars_follow_the_controls(logits, target):
    explorer = GradientExplorer()
    set_logits(explorer, logits)
    explorer.target_selector.value = target
    gradient = expected_gradient(logits, target)
    torch.testing.assert_close(explorer.gradient, gradient, rtol=0, atol=1e-15)
    z = torch.tensor(logits, dtype=torch.float32).double().requires_grad_()
    F.cross_entropy(z, torch.tensor(target)).backward()
    torch.testing.assert_close(explorer.autograd_gradient, z.grad, rtol=0, atol=0)
    loss = F.cross_entropy(z.detach(), torch.tensor(target))
    assert readout_numbers(explorer) == [*as_text(gradient.tolist()), "0.0000", f"{loss:.4f}"]
    assert explorer.hand_bars.heights == explorer.gradient.tolist()
    assert explorer.autograd_bars.heights == explorer.autograd_gradient.tolist()
    for bars, color in ((explorer.hand_bars, COLORS["hand"]), (explorer.autograd_bars, COLORS["autograd"])):
        expected_colors = [COLORS["target"] if i == target else color for i in range(4)]
        assert [bar.get_facecolor() for bar in bars.bars] == [plt.matplotlib.colors.to_rgba(c) for c in expected_colors]


@pytest.mark.parametrize("target", range(4))
def test_extreme_settings_give_finite_gradients_summing_to_zero(target):
    explorer = GradientExplorer()
    explorer.target_selector.value = target
    for logits in EXTREME_LOGITS:
        set_logits(explorer, logits)
        assert explorer.gradient.isfinite().all() and explorer.autograd_gradient.isfinite().all(), logits
        assert abs(float(explorer.gradient.sum())) < 1e-12
        assert (explorer.gradient.abs() <= 1).all()
        numbers = readout_numbers(explorer)
        assert numbers[4] == "0.0000"
        assert "nan" not in explorer.readout.value and "-0.0000" not in explorer.readout.value
        assert "hand = autograd: yes" in explorer.readout.value


def test_out_of_range_values_are_clamped_not_errors():
    explorer = GradientExplorer()
    set_logits(explorer, [1e9, -1e9, 1e30, -1e30])
    assert [slider.value for slider in explorer.logit_sliders] == [10.0, -10.0, 10.0, -10.0]
    assert readout_numbers(explorer)[:5] == ["-0.5000", "0.0000", "0.5000", "0.0000", "0.0000"]
    with pytest.raises(Exception):  # noqa: B017 - the selector refuses a class that does not exist
        explorer.target_selector.value = 7
    assert explorer.target_selector.value == 0 and explorer.gradient.isfinite().all()


def test_a_target_that_is_not_a_class_is_refused_at_construction():
    with pytest.raises(ValueError, match="the initial target must be a class in 0..3"):
        GradientExplorer(target=4)


def test_gradient_parts_have_four_decimals_no_negative_zero_and_say_whether_they_agree():
    gradient = torch.tensor([-0.5, 0.5, -1e-17], dtype=torch.float64)
    assert gradient_parts(gradient, gradient, 0.6931) == [
        "∂ℓ/∂z₀ = -0.5000",
        "∂ℓ/∂z₁ = 0.5000",
        "∂ℓ/∂z₂ = 0.0000",
        "sum = 0.0000",
        "loss ℓ = 0.6931",
        "hand = autograd: yes (within 1e-12)",
    ]
    assert gradient_parts(gradient, gradient + 1e-6, 0.6931)[-1] == "hand = autograd: NO (within 1e-12)"


def test_chart_titles_and_axis_use_the_course_notation():
    explorer = GradientExplorer()
    titles = [bars.ax.get_title() for bars in (explorer.hand_bars, explorer.autograd_bars)]
    assert titles == [r"by hand: $p - e_y$", r"autograd: $\partial \ell / \partial z$"]
    assert explorer.hand_bars.ax.get_ylabel() == r"$\partial \ell / \partial z$"
    assert explorer.readout.value.count("∂ℓ/∂z") == 4 and "loss ℓ = " in explorer.readout.value


# --- the notebook's "things to try", as it states them ---------------------------------------------


def test_try_1_a_confident_right_prediction_gets_no_push():
    explorer = GradientExplorer()
    set_logits(explorer, [10.0, -10.0, -10.0, -10.0])
    assert readout_numbers(explorer) == ["0.0000"] * 6  # four bars, their sum and the loss


def test_try_2_a_confident_wrong_prediction_gets_the_strongest_push():
    explorer = GradientExplorer()
    set_logits(explorer, [10.0, -10.0, -10.0, -10.0])
    explorer.target_selector.value = 1
    assert readout_numbers(explorer)[:4] == ["1.0000", "-1.0000", "0.0000", "0.0000"]


@pytest.mark.parametrize(("logits", "target"), [([2.0, 1.0, 0.1, -1.0], 0), ([-3.0, 8.0, 0.5, 7.9], 3)])
def test_try_3_the_target_bar_is_the_only_negative_one_and_the_sum_is_zero(logits, target):
    explorer = GradientExplorer()
    set_logits(explorer, logits)
    explorer.target_selector.value = target
    negative = [i for i, g in enumerate(explorer.gradient.tolist()) if g < 0]
    assert negative == [target] and readout_numbers(explorer)[4] == "0.0000"


def test_try_4_adding_2_to_every_logit_gives_the_same_bars():
    explorer = GradientExplorer()
    before = readout_numbers(explorer)
    for slider in explorer.logit_sliders:
        slider.value = slider.value + 2
    assert readout_numbers(explorer) == before
