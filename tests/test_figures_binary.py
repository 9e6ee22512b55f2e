"""losslab.figures.binary: notebook 05's figure draws BCE from probabilities and from logits, as PyTorch computes them."""

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from losslab.figures import FIGURES
from losslab.figures.binary import MARKED_POINTS, bce_probabilities_vs_logits, bce_two_ways


@pytest.fixture
def figure():
    fig = bce_probabilities_vs_logits()
    yield fig
    plt.close(fig)


def test_it_is_registered_under_its_file_name():
    assert FIGURES["05_bce_probabilities_vs_logits.png"] is bce_probabilities_vs_logits


def test_one_panel_per_label_with_both_losses_as_pytorch_computes_them(figure):
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == ["y = 1", "y = 0"]
    assert [ax.get_xlabel() for ax in axes] == ["logit z", "logit z"] and axes[0].get_ylabel() == "loss ℓ"
    for ax, label in zip(axes, (1.0, 0.0), strict=True):
        from_logits_line, from_probabilities_line = ax.get_lines()[:2]
        logits = torch.as_tensor(from_logits_line.get_xdata())
        assert logits.dtype == torch.float32 and len(logits) == 2001
        assert (float(logits[0]), float(logits[-1])) == (-250.0, 250.0)
        target = torch.full_like(logits, label)
        torch.testing.assert_close(
            torch.as_tensor(from_logits_line.get_ydata()),
            F.binary_cross_entropy_with_logits(logits, target, reduction="none"),
            rtol=1e-6,
            atol=1e-6,
        )
        torch.testing.assert_close(
            torch.as_tensor(from_probabilities_line.get_ydata()),
            F.binary_cross_entropy(torch.sigmoid(logits), target, reduction="none"),
            rtol=1e-6,
            atol=1e-6,
        )
        assert from_logits_line.get_label() == "BCEWithLogitsLoss(z, y)"
        assert from_probabilities_line.get_label() == "BCELoss(sigmoid(z), y)"


def test_the_probability_curve_plateaus_at_100_and_the_logit_curve_keeps_growing(figure):
    for ax in figure.axes:
        from_logits, from_probabilities = (torch.as_tensor(line.get_ydata()) for line in ax.get_lines()[:2])
        assert float(from_probabilities.max()) == 100.0
        assert float(from_logits.max()) == pytest.approx(250.0, rel=1e-6)


def test_the_curriculum_points_are_marked_and_written(figure):
    assert MARKED_POINTS == ((1.0, -200.0), (0.0, 20.0))
    texts = [" ".join(text.get_text() for text in ax.texts) for ax in figure.axes]
    assert "z = -200: BCELoss 100,\nwith logits 200" in texts[0]
    assert "z = 20: BCELoss 100,\nwith logits 20" in texts[1]
    for ax, (_label, z) in zip(figure.axes, MARKED_POINTS, strict=True):
        markers = [line for line in ax.get_lines() if line.get_marker() == "o"]
        assert len(markers) == 1
        assert list(markers[0].get_xdata()) == [z, z]
        assert sorted(markers[0].get_ydata()) == sorted([100.0, abs(z)])


def test_bce_two_ways_gives_the_curriculum_numbers():
    from_probabilities, from_logits = bce_two_ways(torch.tensor([20.0]), 0.0)
    assert (float(from_probabilities), float(from_logits)) == (100.0, 20.0)
    from_probabilities, from_logits = bce_two_ways(torch.tensor([-200.0]), 1.0)
    assert (float(from_probabilities), float(from_logits)) == (100.0, 200.0)


def test_a_narrower_range_has_no_plateau():
    fig = bce_probabilities_vs_logits(z_max=10.0, points=101, marked_points=())
    try:
        for ax in fig.axes:
            from_logits, from_probabilities = (torch.as_tensor(line.get_ydata()) for line in ax.get_lines()[:2])
            torch.testing.assert_close(from_probabilities, from_logits, rtol=1e-3, atol=1e-4)
            assert not ax.texts
    finally:
        plt.close(fig)
