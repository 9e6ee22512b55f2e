"""Notebook 04's figure: binary cross-entropy on a logit keeps a strong gradient where the squared error on
the sigmoid loses it, when the prediction is confidently wrong (z the logit, p = sigmoid(z), y the label)."""

import matplotlib.pyplot as plt
import torch

from ..binary import binary_cross_entropy_with_logits
from ..gradients import binary_cross_entropy_with_logits_grad, mse_on_sigmoid_grad
from . import course_figure

# The logits to plot, and the confidently wrong logit the notebook looks at.
X_RANGE = (-10.0, 10.0)
WRONG_LOGIT = -10.0


@course_figure("04_vanishing_gradient.png")
def vanishing_gradient(label=1.0, x_range=X_RANGE, marked_logit=WRONG_LOGIT, n_points=401):
    """For a label y, against the logit z: the two losses (left) and the size of their gradients dl/dz on a
    log scale (right), BCE with logits vs the squared error on p = sigmoid(z); marked_logit is marked on both."""
    x = torch.linspace(*x_range, n_points, dtype=torch.float64)  # (n_points,): the logits z
    y = torch.full_like(x, label)
    probs = 1 / (1 + torch.exp(-x))  # sigmoid, to draw the squared error
    curves = {
        "BCE with logits": (
            binary_cross_entropy_with_logits(x, y, reduction="none"),
            binary_cross_entropy_with_logits_grad(x, y, reduction="none"),
            "C0",
        ),
        "MSE on sigmoid": ((probs - y) ** 2, mse_on_sigmoid_grad(x, y, reduction="none"), "C3"),
    }
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    index = int((x - marked_logit).abs().argmin())  # the grid point marked
    for name, (loss, grad, color) in curves.items():
        ax_loss.plot(x, loss, color=color, label=name)
        ax_grad.plot(x, grad.abs(), color=color, label=name)
        ax_loss.plot(x[index], loss[index], "o", color=color)
        ax_grad.plot(x[index], grad[index].abs(), "o", color=color)
    ax_loss.set(xlabel="logit z", ylabel="loss ℓ", title=f"loss ℓ for the label y = {label:g}")
    ax_grad.set(xlabel="logit z", ylabel="|∂ℓ/∂z| (log scale)", title="size of the gradient", yscale="log")
    ax_grad.set_ylim(1e-5, 3.0)
    wrong, right = ("left", "right") if label >= 0.5 else ("right", "left")  # which side predicts the wrong label
    for side, text in ((wrong, "confidently wrong"), (right, "confidently right")):
        x_text = 0.03 if side == "left" else 0.97
        ax_grad.text(x_text, 0.04, text, transform=ax_grad.transAxes, ha=side, color="0.35", fontsize="small")
    for ax in (ax_loss, ax_grad):
        ax.axvline(marked_logit, color="0.6", linestyle=":", linewidth=1)
        ax.spines[["top", "right"]].set_visible(False)
    ax_loss.legend(frameon=False)
    bce_grad, mse_grad = (float(grad[index].abs()) for _, grad, _ in curves.values())
    fig.suptitle(
        f"At z = {float(x[index]):g} (dotted): |∂ℓ/∂z| = {bce_grad:.4f} for BCE with logits, "
        f"{mse_grad:.1e} for MSE on sigmoid"
    )
    fig.tight_layout()
    return fig
