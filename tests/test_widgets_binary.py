"""losslab.widgets.binary: the binary cross-entropy explorer of notebook 05, driven from Python.

Its controls, what it computes and shows, its extremes. What every explorer does alike (two explorers
share no state, updates make no new figures or artists, the PNG chart changes with each control and is
reproducible, the text fallback) is tested once for all of them in test_widgets_all.py.
"""

import itertools
import re

import pytest
import torch
import torch.nn.functional as F
import traitlets

import losslab
from losslab._format import fmt
from losslab.widgets.binary import LOSS_MAX, BinaryCrossEntropyExplorer, bce_with_logits_losses
from losslab.widgets.toolkit import SOFT_LABELS, label_selector


def readout_numbers(explorer):
    """The readout's numbers by name: p, label (y or q), pos_weight, loss, slope (as printed)."""
    values = re.findall(r"= (-?\d+(?:\.\d+)?)", explorer.readout.value)
    return dict(zip(["p", "label", "pos_weight", "loss", "slope"], values[-5:], strict=True))


def set_controls(explorer, logit, label, pos_weight):
    explorer.logit.value = logit
    explorer.label.value = label
    explorer.pos_weight.value = pos_weight


def expected_loss_and_slope(logit, label, pos_weight):
    """PyTorch's loss and its gradient at one logit."""
    z = torch.tensor(logit, dtype=torch.float32, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z, torch.tensor(label), pos_weight=torch.tensor(pos_weight))
    (slope,) = torch.autograd.grad(loss, z)
    return loss.detach(), slope


def test_controls_have_labels_ranges_and_css_classes():
    explorer = BinaryCrossEntropyExplorer()
    logit = explorer.logit
    assert logit.description == "logit z"
    assert (logit.min, logit.max, logit.step) == (-10.0, 10.0, 0.1)
    assert "losslab-logit" in logit._dom_classes
    label = explorer.label
    assert label.description == "label y or q"
    assert [value for _, value in label.options] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [text for text, _ in label.options] == ["0", "0.25", "0.5", "0.75", "1"]
    assert "losslab-label" in label._dom_classes
    pos_weight = explorer.pos_weight
    assert pos_weight.description == "pos_weight"
    assert pos_weight.min > 0 and (pos_weight.min, pos_weight.max, pos_weight.step) == (0.1, 10.0, 0.1)
    assert "losslab-pos-weight" in pos_weight._dom_classes


def test_the_labels_use_the_course_notation():
    """z the logit, p = σ(z), y a hard label and q a soft one, ℓ the loss (notebooks/losslab/notation.md)."""
    explorer = BinaryCrossEntropyExplorer()
    assert explorer.readout.value.count("σ(z)") == 1 and "loss ℓ = " in explorer.readout.value
    assert "slope dℓ/dz = " in explorer.readout.value and "y = 1" in explorer.readout.value
    ax = explorer.curve.ax
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("logit z", "loss ℓ")
    assert "over z" in ax.get_title()
    for soft_label in (0.25, 0.5, 0.75):
        explorer.label.value = soft_label
        assert f"q = {soft_label:g}" in explorer.readout.value and "y = " not in explorer.readout.value
    explorer.label.value = 0.0
    assert "y = 0" in explorer.readout.value and "q = " not in explorer.readout.value


def test_initial_readout_shows_the_default_setting():
    explorer = BinaryCrossEntropyExplorer()
    assert readout_numbers(explorer) == {
        "p": "0.8808",
        "label": "1",
        "pos_weight": "1.0",
        "loss": "0.1269",
        "slope": "-0.1192",
    }
    assert float(explorer.loss) == pytest.approx(F.softplus(torch.tensor(-2.0)).item(), abs=1e-6)


def test_the_curriculum_example_pos_weight_3_at_x_1_5():
    explorer = BinaryCrossEntropyExplorer()
    set_controls(explorer, 1.5, 1.0, 1.0)
    assert readout_numbers(explorer)["loss"] == "0.2014"
    explorer.pos_weight.value = 3.0
    assert readout_numbers(explorer)["loss"] == "0.6042"
    explorer.label.value = 0.0
    assert readout_numbers(explorer)["loss"] == "1.7014"


@pytest.mark.parametrize(
    ("logit", "label", "pos_weight"),
    [(1.5, 1.0, 3.0), (-7.3, 0.25, 0.1), (0.0, 0.5, 1.0), (9.9, 0.75, 10.0), (-10.0, 1.0, 10.0), (4.2, 0.0, 2.5)],
)
def test_readout_and_curve_follow_the_controls(logit, label, pos_weight):
    explorer = BinaryCrossEntropyExplorer()
    set_controls(explorer, logit, label, pos_weight)
    loss, slope = expected_loss_and_slope(logit, label, pos_weight)
    probability = torch.sigmoid(torch.tensor(logit))
    assert readout_numbers(explorer) == {
        "p": f"{probability:.4f}",
        "label": f"{label:g}",
        "pos_weight": f"{pos_weight:.1f}",
        "loss": f"{loss:.4f}",
        "slope": fmt(slope),
    }
    torch.testing.assert_close(explorer.loss, loss, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(explorer.slope, slope, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(explorer.probability, probability, rtol=0, atol=0)

    grid = explorer.grid
    expected_curve = F.binary_cross_entropy_with_logits(
        grid, torch.full_like(grid, label), reduction="none", pos_weight=torch.tensor(pos_weight)
    )
    torch.testing.assert_close(explorer.curve_losses, expected_curve, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(torch.as_tensor(explorer.curve.line.get_ydata()), explorer.curve_losses)
    unweighted = F.binary_cross_entropy_with_logits(grid, torch.full_like(grid, label), reduction="none")
    torch.testing.assert_close(torch.as_tensor(explorer.unweighted_line.get_ydata()), unweighted, rtol=1e-6, atol=1e-6)

    marker_x, marker_y = (values[0] for values in explorer.curve.marker.get_data())
    assert marker_x == pytest.approx(logit)
    assert marker_y == pytest.approx(min(float(loss), LOSS_MAX), abs=1e-6)
    assert explorer.curve.marker.get_marker() == ("^" if float(loss) > LOSS_MAX else "o")


def test_the_slope_is_sigmoid_minus_label_without_pos_weight():
    explorer = BinaryCrossEntropyExplorer()
    for logit, label in itertools.product((-6.0, -0.5, 0.0, 3.3), SOFT_LABELS):
        set_controls(explorer, logit, label, 1.0)
        expected = torch.sigmoid(torch.tensor(logit)) - label  # notebook 04
        torch.testing.assert_close(explorer.slope, expected, rtol=0, atol=1e-6)


def test_a_soft_label_has_its_minimum_at_p_equal_to_y_with_the_entropy_as_height():
    explorer = BinaryCrossEntropyExplorer(label=0.5)
    best = int(explorer.curve_losses.argmin())
    assert float(explorer.grid[best]) == pytest.approx(0.0, abs=1e-6)
    assert float(explorer.curve_losses[best]) == pytest.approx(0.6931, abs=1e-4)  # log 2, the entropy


def test_the_chart_keeps_fixed_axes():
    explorer = BinaryCrossEntropyExplorer()
    ax = explorer.curve.ax
    limits = (ax.get_xlim(), ax.get_ylim())
    for logit, label, pos_weight in [(-10.0, 1.0, 10.0), (10.0, 0.0, 0.1), (0.3, 0.5, 5.0)]:
        set_controls(explorer, logit, label, pos_weight)
        assert (ax.get_xlim(), ax.get_ylim()) == limits
    assert limits[1] == (0.0, LOSS_MAX)


EXTREMES = list(itertools.product((-10.0, 10.0), SOFT_LABELS, (0.1, 10.0)))


def test_extreme_settings_give_finite_numbers_and_no_negative_zero():
    explorer = BinaryCrossEntropyExplorer()
    for logit, label, pos_weight in EXTREMES:
        set_controls(explorer, logit, label, pos_weight)
        for value in (explorer.loss, explorer.slope, explorer.probability):
            assert value.isfinite(), (logit, label, pos_weight)
        assert explorer.curve_losses.isfinite().all()
        assert float(explorer.loss) >= 0
        text = explorer.readout.value
        assert "nan" not in text and "inf" not in text and "-0.0000" not in text


def test_out_of_range_values_are_clamped_not_errors():
    explorer = BinaryCrossEntropyExplorer()
    explorer.logit.value = 1e9
    assert explorer.logit.value == 10.0
    explorer.logit.value = -1e30
    assert explorer.logit.value == -10.0
    explorer.pos_weight.value = 0.0
    assert explorer.pos_weight.value == 0.1
    explorer.pos_weight.value = -5.0
    assert explorer.pos_weight.value == 0.1
    explorer.pos_weight.value = 1e6
    assert explorer.pos_weight.value == 10.0
    assert explorer.loss.isfinite() and readout_numbers(explorer)["pos_weight"] == "10.0"


def test_a_label_outside_the_choices_is_refused_and_changes_nothing():
    explorer = BinaryCrossEntropyExplorer()
    readout = explorer.readout.value
    with pytest.raises(traitlets.TraitError):
        explorer.label.value = 0.3
    assert explorer.label.value == 1.0 and explorer.readout.value == readout


def test_construction_refuses_a_label_outside_the_choices():
    with pytest.raises(ValueError, match=r"one of \[0.0, 0.25, 0.5, 0.75, 1.0\], got 0.3"):
        label_selector(0.3)
    with pytest.raises(ValueError, match="got 2"):
        BinaryCrossEntropyExplorer(label=2)


def test_losses_helper_matches_losslab():
    logits = torch.tensor([-3.0, 0.0, 2.0])
    expected = losslab.binary_cross_entropy_with_logits(
        logits, torch.full_like(logits, 0.25), reduction="none", pos_weight=torch.tensor(2.0)
    )
    assert torch.equal(bce_with_logits_losses(logits, 0.25, 2.0), expected)
