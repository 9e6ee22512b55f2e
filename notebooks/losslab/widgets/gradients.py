"""Notebook 04's gradient explorer: logit sliders and a target class -> the gradient of one sample's
cross-entropy w.r.t. its logits, dl/dz, derived by hand (p - e_y, with p = softmax(z) and e_y the one-hot
target) and computed by autograd, side by side."""

import torch
import torch.nn.functional as F

from .._format import fmt
from ..gradients import cross_entropy_grad
from ..plots import ValueBars, figure
from ..softmax import softmax
from .toolkit import Explorer, LogitPanel, TargetSelector, subscript

COLORS = {"hand": "C0", "autograd": "C2", "target": "C3"}  # the target class's bar stands out in both charts

# The two gradients are computed in float64, where they agree to rounding (about 1e-16); the readout
# says whether they agree within this much.
AGREEMENT = 1e-12


class GradientExplorer(Explorer):
    """Logit sliders and a target class; bars of dl/dz = p - e_y by hand, and by autograd."""

    description = "logit sliders and a target class with the bars of ∂ℓ/∂z = p − e_y, by hand and by autograd"

    def __init__(self, logits=(2.0, 1.0, 0.1, -1.0), target=0, *, recreate_figure=False):
        self.logit_panel = LogitPanel(logits)
        self.logit_sliders = self.logit_panel.sliders
        self.target_selector = TargetSelector(len(self.logit_sliders), value=target)
        super().__init__([self.logit_panel.widget, self.target_selector.widget], recreate_figure=recreate_figure)

    def _make_chart(self):
        n_classes = len(self.logit_sliders)
        fig = figure(figsize=(6.0, 2.4), dpi=90)
        ax_hand, ax_autograd = fig.subplots(1, 2)
        tick_labels = [f"z{subscript(i)}" for i in range(n_classes)]
        zeros = [0.0] * n_classes
        self.hand_bars = ValueBars(ax_hand, zeros, tick_labels, 2, COLORS["hand"], yticks=[-1.0, 0.0, 1.0])
        self.autograd_bars = ValueBars(ax_autograd, zeros, tick_labels, 2, COLORS["autograd"], yticks=[-1.0, 0.0, 1.0])
        ax_hand.set_title(r"by hand: $p - e_y$", fontsize="medium")
        ax_autograd.set_title(r"autograd: $\partial \ell / \partial z$", fontsize="medium")
        ax_hand.set_ylabel(r"$\partial \ell / \partial z$")
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.12, top=0.86, wspace=0.25)
        return fig, [*self.hand_bars.artists, *self.autograd_bars.artists]

    def compute(self):
        logits = self.logit_panel.logits().double()  # (C,)
        self.target = self.target_selector.value
        target = torch.tensor(self.target)  # (): a class index
        self.probabilities = softmax(logits, dim=0)  # (C,)
        self.gradient = cross_entropy_grad(logits, target)  # p - e_y, derived by hand
        leaf = logits.clone().requires_grad_(True)
        loss = F.cross_entropy(leaf, target)  # PyTorch's own loss, differentiated by autograd
        (self.autograd_gradient,) = torch.autograd.grad(loss, leaf)
        self.loss = float(loss.detach())

    def draw(self):
        for bars, values, color in (
            (self.hand_bars, self.gradient, COLORS["hand"]),
            (self.autograd_bars, self.autograd_gradient, COLORS["autograd"]),
        ):
            bars.update(values)
            for i, bar in enumerate(bars.bars):
                bar.set_color(COLORS["target"] if i == self.target else color)

    def readout_parts(self):
        return gradient_parts(self.gradient, self.autograd_gradient, self.loss)


def gradient_parts(gradient, autograd_gradient, loss):
    """['∂ℓ/∂z₀ = 0.6381', ..., 'sum = 0.0000', 'loss ℓ = 1.0000', 'hand = autograd: yes (within 1e-12)']: 4
    decimals."""
    agree = bool((gradient - autograd_gradient).abs().max() < AGREEMENT)
    return [
        *(f"∂ℓ/∂z{subscript(i)} = {fmt(g)}" for i, g in enumerate(gradient)),
        f"sum = {fmt(gradient.sum())}",
        f"loss ℓ = {fmt(loss)}",
        f"hand = autograd: {'yes' if agree else 'NO'} (within {AGREEMENT:g})",
    ]
