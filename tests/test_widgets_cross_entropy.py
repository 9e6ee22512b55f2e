"""losslab.widgets.cross_entropy: the cross-entropy explorer of notebook 02, driven from Python.

Its controls, what it computes and shows, its extremes. What every explorer does alike (two explorers
share no state, updates make no new figures or artists, the PNG chart changes with each control and is
reproducible, the text fallback) is tested once for all of them in test_widgets_all.py.
"""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgba

from explorers import EXTREME_LOGITS, assert_logit_sliders, assert_target_selector, set_logits
from losslab.widgets.cross_entropy import (
    OTHER_COLOR,
    TARGET_COLOR,
    CrossEntropyExplorer,
    format_loss,
    loss_curve,
    loss_parts,
)


def readout_parts(explorer):
    """The readout's parts, as `loss_parts` made them."""
    text = re.sub(r"<[^>]+>", "", explorer.readout.value)
    return text.split(" &nbsp;·&nbsp; ")


def expected(logits, target):
    """p_y and the loss in float64, and the loss in float32, as torch computes them."""
    logits = torch.tensor(logits, dtype=torch.float32)
    target = torch.tensor(target)
    p_y = torch.softmax(logits.double(), dim=0)[target]
    return p_y, F.cross_entropy(logits.double(), target), F.cross_entropy(logits, target)


def bar_colors(explorer):
    return [bar.get_facecolor() for bar in explorer.bars.bars]


def test_controls_have_labels_ranges_and_css_classes():
    explorer = CrossEntropyExplorer()
    assert_logit_sliders(explorer)
    assert_target_selector(explorer)
    assert explorer.controls() == [*explorer.logit_sliders, explorer.target_selector.widget]


def test_starts_at_the_first_worked_example_sample():
    explorer = CrossEntropyExplorer()
    assert [s.value for s in explorer.logit_sliders] == [7.4, 2.8, -0.6, 6.3]
    assert explorer.target_selector.value == 3
    assert readout_parts(explorer) == ["p₃ = 0.2478", "ℓ = −log p₃ = 1.3951", "in float32: 1.3951"]


@pytest.mark.parametrize(
    ("logits", "target"),
    [
        ([7.4, 2.8, -0.6, 6.3], 0),
        ([-1.9, 4.2, 3.9, 5.1], 0),
        ([0.0, 0.0, 0.0, 1.0], 3),
        ([0.0, 0.0, 0.0, 0.0], 2),
        ([3.5, -2.0, 0.0, 7.3], 1),
        ([10.0, -10.0, -10.0, -10.0], 0),
        ([-10.0, 10.0, 10.0, 10.0], 0),
    ],
)
def test_readout_bars_and_curve_follow_the_controls(logits, target):
    explorer = CrossEntropyExplorer()
    set_logits(explorer, logits)
    explorer.target_selector.value = target
    p_y, loss, loss_32 = expected(logits, target)
    y = "₀₁₂₃"[target]
    assert readout_parts(explorer) == [
        f"p{y} = {float(p_y):.4f}",
        f"ℓ = −log p{y} = {format_loss(loss)}",
        f"in float32: {format_loss(loss_32)}",
    ]
    torch.testing.assert_close(explorer.loss, loss, rtol=0, atol=0)
    torch.testing.assert_close(explorer.loss_float32, loss_32, rtol=0, atol=0)
    probs = torch.softmax(torch.tensor(logits, dtype=torch.float32).double(), dim=0)
    torch.testing.assert_close(explorer.probabilities, probs, rtol=0, atol=1e-15)
    assert explorer.bars.heights == pytest.approx(probs.tolist(), abs=1e-15)
    # The curve: -log p_y as z_y moves over the grid, the other logits fixed; the marker on it.
    grid = explorer.grid
    rows = torch.tensor(logits, dtype=torch.float32).double().repeat(len(grid), 1)
    rows[:, target] = grid
    curve = F.cross_entropy(rows, torch.full((len(grid),), target), reduction="none")
    torch.testing.assert_close(torch.as_tensor(explorer.curve.line.get_ydata()), curve, rtol=1e-12, atol=1e-12)
    x0, y0 = explorer.curve.marker.get_data()
    assert x0[0] == pytest.approx(float(torch.tensor(logits[target], dtype=torch.float32)))
    assert y0[0] == pytest.approx(float(loss), rel=1e-12, abs=0)


def test_the_target_bar_is_red_and_follows_the_target():
    explorer = CrossEntropyExplorer()
    for target in (0, 2, 1, 3):
        explorer.target_selector.value = target
        colors = bar_colors(explorer)
        assert colors[target] == to_rgba(TARGET_COLOR)
        assert all(color == to_rgba(OTHER_COLOR) for i, color in enumerate(colors) if i != target)
        label_colors = [to_rgba(label.get_color()) for label in explorer.bars.labels]
        assert label_colors[target] == to_rgba(TARGET_COLOR)  # visible even when the bar has height 0
        assert all(color == to_rgba("black") for i, color in enumerate(label_colors) if i != target)


def test_the_loss_never_reads_zero_in_float64_but_does_in_float32():
    explorer = CrossEntropyExplorer()
    set_logits(explorer, [10.0, -10.0, -10.0, -10.0])
    explorer.target_selector.value = 0
    assert float(explorer.loss) == pytest.approx(math.log1p(3 * math.exp(-20)), rel=1e-6)
    assert float(explorer.loss) > 0 and float(explorer.loss_float32) == 0
    assert readout_parts(explorer) == ["p₀ = 1.0000", "ℓ = −log p₀ = 6.2e-09", "in float32: 0"]


def test_format_loss_is_fixed_decimals_or_scientific_below_a_thousandth():
    assert format_loss(torch.tensor(1.3951234)) == "1.3951"
    assert format_loss(21.0986) == "21.0986"
    assert format_loss(0.001) == "0.0010"
    assert format_loss(0.000999) == "1.0e-03"
    assert format_loss(6.18e-9) == "6.2e-09"
    assert format_loss(0.0) == "0"
    assert format_loss(-0.0) == "0"  # float32 returns -0.0 for a rounded-to-zero loss


def test_loss_parts():
    assert loss_parts(torch.tensor(0.25), 2, torch.tensor(1.3862944), torch.tensor(1.3862944)) == [
        "p₂ = 0.2500",
        "ℓ = −log p₂ = 1.3863",
        "in float32: 1.3863",
    ]


def test_loss_curve_is_minus_log_softmax_of_the_target_over_the_grid():
    logits = torch.tensor([1.0, -2.0, 0.5])
    grid = torch.tensor([-3.0, 0.0, 4.0], dtype=torch.float64)
    curve = loss_curve(logits, 1, grid)
    for z, value in zip(grid.tolist(), curve.tolist(), strict=True):
        row = torch.tensor([1.0, z, 0.5], dtype=torch.float64)
        assert value == pytest.approx(-torch.log_softmax(row, dim=0)[1].item(), rel=1e-14)
    assert logits.tolist() == [1.0, -2.0, 0.5]  # not changed in place


@pytest.mark.parametrize("target", [0, 3])
def test_extreme_settings_give_finite_numbers_and_no_negative_zero(target):
    explorer = CrossEntropyExplorer()
    explorer.target_selector.value = target
    for logits in EXTREME_LOGITS:
        set_logits(explorer, logits)
        assert explorer.probabilities.isfinite().all(), logits
        assert explorer.loss.isfinite() and float(explorer.loss) > 0, logits
        assert torch.as_tensor(explorer.curve.line.get_ydata()).isfinite().all(), logits
        values = [part.split()[-1] for part in readout_parts(explorer)]
        assert not any(v in ("nan", "inf", "-0", "-0.0000") or v.startswith("-") for v in values), logits


def test_out_of_range_values_are_clamped_not_errors():
    explorer = CrossEntropyExplorer()
    set_logits(explorer, [1e9, -1e9, 1e30, -1e30])
    assert [slider.value for slider in explorer.logit_sliders] == [10.0, -10.0, 10.0, -10.0]
    assert explorer.loss.isfinite()
    with pytest.raises(Exception):  # noqa: B017 (ipywidgets raises TraitError for an invalid selection)
        explorer.target_selector.value = 4
    assert explorer.target_selector.value == 3


def test_an_initial_target_that_is_not_a_class_is_refused():
    with pytest.raises(ValueError, match=r"a class in 0\.\.3, got 4"):
        CrossEntropyExplorer(target=4)


def test_axes_limits_stay_fixed():
    explorer = CrossEntropyExplorer()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.figure.axes]
    set_logits(explorer, [10.0, 10.0, 10.0, -10.0])
    explorer.target_selector.value = 3
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.figure.axes] == limits
    # The largest loss the controls allow fits in the loss axes.
    assert max(explorer.curve.line.get_ydata()) < explorer.figure.axes[1].get_ylim()[1]


def test_labels_use_the_course_notation():
    """p = softmax(z) the model, y the true class, ℓ = -log p_y the loss (notation.md), in the chart and readout."""
    explorer = CrossEntropyExplorer()
    ax_probs, ax_loss = explorer.figure.axes
    assert ax_probs.get_title() == r"$p = \mathrm{softmax}(z)$, target in red"
    assert ax_probs.get_ylabel() == r"probability $p_c$"
    assert ax_loss.get_title() == r"$\ell = -\log p_y$ against $z_y$, others fixed"
    assert (ax_loss.get_xlabel(), ax_loss.get_ylabel()) == (r"target logit $z_y$", r"loss $\ell$")
    assert readout_parts(explorer)[1].startswith("ℓ = −log p₃ = ")
