"""losslab.widgets.stability: the stability explorer of notebook 03, driven from Python.

Its controls, what it computes and shows, its extremes. What every explorer does alike (two explorers
share no state, updates make no new figures or artists, the PNG chart changes with each control and is
reproducible, the text fallback) is tested once for all of them in test_widgets_all.py.
"""

import math
import re

import pytest
import torch

from losslab._format import fmt
from losslab.widgets.stability import StabilityExplorer

BASE = torch.tensor([1.0, 0.0, -1.0])  # float32


def torch_losses(scale, base=BASE, target=2):
    """PyTorch's naive and stable losses and gradients at logits scale * base, in float32."""
    results = []
    for loss_fn in (lambda z: -torch.softmax(z, dim=0).log()[target], lambda z: -torch.log_softmax(z, dim=0)[target]):
        z = (scale * base).requires_grad_()
        loss = loss_fn(z)
        loss.backward()
        results.append((loss.item(), z.grad))
    return results


def shown(explorer):
    """{'naive': text, 'stable': text} of the losses in the readout."""
    found = dict(re.findall(r"(naive|stable) ℓ = −log[_(a-z]*\(z\)[₀-₉]\)? = ([^ <]+)", explorer.readout.value))
    assert set(found) == {"naive", "stable"}, explorer.readout.value
    return found


def shown_gradients(explorer):
    return dict(re.findall(r"(naive|stable) (\[[^\]]*\])", explorer.gradient_readout.value))


def test_controls_have_labels_ranges_and_css_classes():
    explorer = StabilityExplorer()
    scale = explorer.scale
    assert scale.description == "scale s"
    assert (scale.min, scale.max, scale.step, scale.value) == (1.0, 1000.0, 1.0, 10.0)
    assert scale.readout_format == ".0f"
    assert "losslab-scale" in scale._dom_classes
    assert "losslab-gradient-readout" in explorer.gradient_readout.widget._dom_classes
    assert "float32" in explorer.description


def test_labels_use_the_course_notation():
    """ℓ is the per-sample loss, p = softmax(z) the model, y the target class (notebooks/losslab/notation.md)."""
    explorer = StabilityExplorer()
    assert "naive ℓ = −log(softmax(z)₂) = " in explorer.readout.value
    assert "stable ℓ = −log_softmax(z)₂ = " in explorer.readout.value
    assert explorer.gradient_readout.value.count("gradient ∂ℓ/∂z") == 1
    ax = explorer.stable.ax
    assert ax.get_ylabel() == "loss ℓ = −log p₂  (target y = 2)"
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["stable: −log_softmax(z)₂", "naive: −log(softmax(z)₂)"]
    other = StabilityExplorer(base_logits=(2.0, 0.0), target=1, max_scale=100)
    assert "naive ℓ = −log(softmax(z)₁)" in other.readout.value and "y = 1" in other.stable.ax.get_ylabel()


def test_initial_readout_shows_both_losses_at_scale_10():
    explorer = StabilityExplorer()
    assert "s = 10" in explorer.readout.value and "z = [10, 0, -10]" in explorer.readout.value
    assert shown(explorer) == {"naive": "20.0000", "stable": "20.0000"}
    assert shown_gradients(explorer) == {"naive": "[1.0000, 0.0000, -1.0000]", "stable": "[1.0000, 0.0000, -1.0000]"}


@pytest.mark.parametrize("scale", [1.0, 2.0, 10.0, 44.0, 45.0, 51.0, 52.0, 53.0, 400.0, 1000.0])
def test_readout_and_attributes_follow_the_slider_and_equal_torch(scale):
    explorer = StabilityExplorer()
    explorer.scale.value = scale
    (naive, naive_grad), (stable, stable_grad) = torch_losses(scale)
    assert explorer.naive_loss == naive or (math.isnan(naive) and math.isnan(explorer.naive_loss))
    assert explorer.stable_loss == stable
    # losslab's softmax and PyTorch's differ in the last bit of some gradients, never in where they break
    torch.testing.assert_close(explorer.naive_grad, naive_grad, rtol=1e-6, atol=1e-6, equal_nan=True)
    torch.testing.assert_close(explorer.stable_grad, stable_grad, rtol=1e-6, atol=1e-6)
    assert shown(explorer) == {"naive": fmt(naive), "stable": f"{stable:.4f}"}
    assert shown_gradients(explorer) == {"naive": fmt(naive_grad), "stable": fmt(stable_grad)}
    assert f"s = {scale:.0f}" in explorer.readout.value


def test_the_naive_side_breaks_as_text_and_the_stable_side_never_does():
    explorer = StabilityExplorer()
    explorer.scale.value = 45
    assert shown(explorer) == {"naive": "90.0000", "stable": "90.0000"}
    assert "inf" in shown_gradients(explorer)["naive"] and "nan" in shown_gradients(explorer)["naive"]
    explorer.scale.value = 51
    assert shown(explorer) == {"naive": "101.8926", "stable": "102.0000"}  # a subnormal probability
    explorer.scale.value = 52
    assert shown(explorer) == {"naive": "inf", "stable": "104.0000"}
    assert shown_gradients(explorer) == {"naive": "[nan, nan, nan]", "stable": "[1.0000, 0.0000, -1.0000]"}
    explorer.scale.value = 1000
    assert shown(explorer) == {"naive": "inf", "stable": "2000.0000"}


def test_break_points_and_curves():
    explorer = StabilityExplorer()
    assert (explorer.gradient_break_scale, explorer.break_scale) == (45, 52)
    scales = torch.arange(1, 1001, dtype=torch.float32)
    expected_stable = -torch.log_softmax(scales[:, None] * BASE, dim=1)[:, 2]
    torch.testing.assert_close(torch.as_tensor(explorer.stable.line.get_ydata()), expected_stable)
    naive_x = torch.as_tensor(explorer.naive.line.get_xdata())
    assert naive_x[0] == 1 and naive_x[-1] == 51  # the naive curve stops before its break
    assert torch.as_tensor(explorer.naive.line.get_ydata()).isfinite().all()
    ax = explorer.stable.ax
    for axis in (ax.xaxis, ax.yaxis):  # plots.steady_log_scale: log10, rounded
        assert axis.get_transform().transform([1.0, 10.0, 1000.0]).tolist() == [0.0, 1.0, 3.0]
    assert ax.get_xlim() == (1.0, 1000.0)
    texts = " ".join(text.get_text() for text in ax.texts)
    assert "from s = 52" in texts and "from s = 45" in texts


def test_markers_follow_the_slider_on_fixed_axes():
    explorer = StabilityExplorer()
    ax = explorer.stable.ax
    limits = (ax.get_xlim(), ax.get_ylim())
    for scale in (1.0, 30.0, 51.0):
        explorer.scale.value = scale
        assert explorer.stable.marker.get_data() == ([scale], [explorer.stable_loss])
        assert explorer.naive.marker.get_data() == ([scale], [explorer.naive_loss])
    explorer.scale.value = 300.0
    assert explorer.stable.marker.get_data() == ([300.0], [600.0])
    assert len(explorer.naive.marker.get_xdata()) == 0  # off the chart: the naive loss is inf
    assert (ax.get_xlim(), ax.get_ylim()) == limits


def test_no_setting_raises_or_shows_negative_zero():
    explorer = StabilityExplorer()
    for scale in range(1, 1001, 7):
        explorer.scale.value = scale
        text = explorer.readout.value + explorer.gradient_readout.value
        assert "-0.0000" not in text and "Traceback" not in text
        assert not re.search(r"\d\.\d{5,}", text)  # fixed precision
        assert math.isfinite(explorer.stable_loss) and explorer.stable_grad.isfinite().all()


def test_out_of_range_values_are_clamped_not_errors():
    explorer = StabilityExplorer()
    for value, clamped in ((0.0, 1.0), (-5.0, 1.0), (1e9, 1000.0), (math.inf, 1000.0)):
        explorer.scale.value = value
        assert explorer.scale.value == clamped
    assert shown(explorer)["stable"] == "2000.0000"


def test_other_logits_and_targets():
    explorer = StabilityExplorer(base_logits=(2.0, 0.0), target=1, scale=3.0, max_scale=100)
    assert explorer.scale.max == 100.0
    assert shown(explorer) == {"naive": "6.0025", "stable": "6.0025"}
    # -log p₁ ≈ 2s: the same underflow as the default's at half the scale
    assert (explorer.gradient_break_scale, explorer.break_scale) == (45, 52)
    # The target is the largest logit: its loss tends to 0 and never breaks, but once p₂ underflows to 0,
    # log's backward computes 0 / 0 at that entry, and the gradient is nan all the same.
    largest = StabilityExplorer(target=0)
    assert (largest.gradient_break_scale, largest.break_scale) == (52, None)
    largest.scale.value = 1000
    assert shown(largest) == {"naive": "0.0000", "stable": "0.0000"}
    assert shown_gradients(largest) == {"naive": "[nan, nan, nan]", "stable": "[0.0000, 0.0000, 0.0000]"}


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        (dict(target=3), "target must be a class in 0..2"),
        (dict(target=-1), "target must be a class in 0..2"),
        (dict(base_logits=(1.0,)), "at least two finite numbers"),
        (dict(base_logits=1.0), "at least two finite numbers"),
        (dict(base_logits=(1.0, math.nan)), "at least two finite numbers"),
        (dict(max_scale=1), "max_scale must be at least 2"),
    ],
)
def test_bad_arguments_are_refused_at_construction(kwargs, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        StabilityExplorer(**kwargs)


def test_the_readouts_write_inf_and_nan_as_words_and_never_negative_zero():
    """What the readouts rely on `fmt` for, at the settings where the naive side breaks."""
    assert [fmt(v) for v in (math.inf, -math.inf, math.nan, -0.0, -1e-9, 2.5)] == [
        "inf",
        "-inf",
        "nan",
        "0.0000",
        "0.0000",
        "2.5000",
    ]
    assert fmt(torch.tensor([-0.0, 1.0, math.nan])) == "[0.0000, 1.0000, nan]"
    assert fmt(torch.tensor([52.0, 0.0, -52.0]), ".0f") == "[52, 0, -52]"
