"""losslab.figures.gradients: notebook 04's figure shows the losses and gradient sizes it claims to."""

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from losslab.figures import FIGURES
from losslab.figures.gradients import WRONG_LOGIT, X_RANGE, vanishing_gradient


@pytest.fixture
def figure():
    fig = vanishing_gradient()
    yield fig
    plt.close(fig)


def curves(ax):
    """The two curves (not the markers) of a panel: [(x, y), ...] in drawing order."""
    return [
        (torch.tensor(line.get_xdata()), torch.tensor(line.get_ydata()))
        for line in ax.lines
        if len(line.get_xdata()) > 1 and line.get_linestyle() == "-"
    ]


def torch_loss_and_grad(x, label):
    """BCE with logits and MSE on sigmoid, per element, and their derivatives, by autograd."""
    results = []
    for loss_fn in (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
        lambda x, y: (torch.sigmoid(x) - y) ** 2,
    ):
        leaf = x.clone().requires_grad_()
        loss = loss_fn(leaf, torch.full_like(x, label))
        (grad,) = torch.autograd.grad(loss.sum(), leaf)
        results.append((loss.detach(), grad))
    return results


def test_is_registered_under_its_notebook_number():
    assert FIGURES["04_vanishing_gradient.png"] is vanishing_gradient


def test_panels_show_both_losses_and_the_size_of_their_gradients(figure):
    ax_loss, ax_grad = figure.axes
    (x, _), _ = curves(ax_loss)
    assert (float(x[0]), float(x[-1])) == X_RANGE
    expected = torch_loss_and_grad(x.double(), 1.0)
    for (_, loss_curve), (_, grad_curve), (loss, grad) in zip(curves(ax_loss), curves(ax_grad), expected, strict=True):
        torch.testing.assert_close(loss_curve, loss, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(grad_curve, grad.abs(), rtol=1e-9, atol=1e-12)
    assert ax_grad.get_yscale() == "log"
    assert [text.get_text() for text in ax_loss.get_legend().get_texts()] == ["BCE with logits", "MSE on sigmoid"]


def test_marks_the_confidently_wrong_logit_and_quotes_both_gradients(figure):
    ax_loss, ax_grad = figure.axes
    markers = [line for line in ax_grad.lines if line.get_marker() == "o"]
    assert [float(line.get_xdata()[0]) for line in markers] == [WRONG_LOGIT, WRONG_LOGIT]
    sigmoid = torch.sigmoid(torch.tensor(WRONG_LOGIT, dtype=torch.float64))
    bce, mse = 1 - sigmoid, 2 * (1 - sigmoid) * sigmoid * (1 - sigmoid)
    assert [float(line.get_ydata()[0]) for line in markers] == pytest.approx([float(bce), float(mse)], rel=1e-12)
    assert figure.get_suptitle() == (
        "At z = -10 (dotted): |∂ℓ/∂z| = 1.0000 for BCE with logits, 9.1e-05 for MSE on sigmoid"
    )
    texts = [text.get_text() for text in ax_grad.texts]
    assert texts == ["confidently wrong", "confidently right"]
    assert ax_grad.texts[0].get_position()[0] < ax_grad.texts[1].get_position()[0]  # y = 1: wrong on the left


def test_label_zero_swaps_the_sides():
    fig = vanishing_gradient(label=0.0, marked_logit=10.0)
    try:
        ax_grad = fig.axes[1]
        wrong = next(text for text in ax_grad.texts if text.get_text() == "confidently wrong")
        assert wrong.get_position()[0] > 0.5
        assert "At z = 10" in fig.get_suptitle() and "y = 0" in fig.axes[0].get_title()
    finally:
        plt.close(fig)


def test_axes_use_the_course_notation(figure):
    ax_loss, ax_grad = figure.axes
    assert [ax.get_xlabel() for ax in figure.axes] == ["logit z", "logit z"]
    assert (ax_loss.get_ylabel(), ax_grad.get_ylabel()) == ("loss ℓ", "|∂ℓ/∂z| (log scale)")
