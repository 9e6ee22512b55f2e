"""Notebook 02's cross-entropy explorer: logit sliders and a target class -> p = softmax(z) and ℓ = -log p_y.

The readout is computed in float64, so it shows what float32 hides: the loss of a correct,
confident prediction gets very small but never reaches 0.
"""

import torch

from ..cross_entropy import cross_entropy
from ..plots import MarkedCurve, ProbabilityBars, figure
from ..softmax import log_softmax
from .toolkit import Explorer, LogitPanel, TargetSelector, subscript

TARGET_COLOR = "C3"
OTHER_COLOR = "C0"
SMALL_LOSS = 1e-3  # below this the readout switches to scientific notation
CURVE_POINTS = 201


def format_loss(loss):
    """A loss as the readout shows it: 4 decimals, or 2 significant digits in scientific notation
    below 0.001 (so 6.2e-09 does not print as 0.0000), and exactly "0" only for a zero."""
    loss = float(loss)
    if loss == 0:
        return "0"
    if abs(loss) < SMALL_LOSS:
        return f"{loss:.1e}"
    return f"{loss:.4f}"


def loss_curve(logits, target, grid):
    """-log softmax(z)[target] as the target's logit takes each value of grid (G,), the others fixed.

    logits (C,), any float dtype; returns (G,) in float64.
    """
    rows = logits.double().repeat(len(grid), 1)  # (G, C)
    rows[:, target] = grid
    return -log_softmax(rows, dim=1)[:, target]  # (G,)


class CrossEntropyExplorer(Explorer):
    """Logit sliders and a target selector; the bars of p = softmax(z) with the target's bar in red,
    and the loss ℓ = -log p_y against the target logit z_y with the current point marked."""

    description = "logit sliders and a target class with the probability bars and the loss ℓ = -log p_y"

    def __init__(self, logits=(7.4, 2.8, -0.6, 6.3), target=3, bound=10.0, *, recreate_figure=False):
        self.logit_panel = LogitPanel(logits, bound=bound)
        self.logit_sliders = self.logit_panel.sliders
        self.target_selector = TargetSelector(len(self.logit_sliders), value=target)
        self.bound = bound
        self.grid = torch.linspace(-bound, bound, CURVE_POINTS, dtype=torch.float64)  # (G,) target logits
        super().__init__([self.logit_panel.widget, self.target_selector.widget], recreate_figure=recreate_figure)

    def _make_chart(self):
        n_classes, bound = len(self.logit_sliders), self.bound
        fig = figure(figsize=(6.6, 2.4), dpi=80)
        ax_probs, ax_loss = fig.subplots(1, 2, width_ratios=(1.0, 1.25))
        self.bars = ProbabilityBars(
            ax_probs, [0.0] * n_classes, tick_labels=[f"p{subscript(i)}" for i in range(n_classes)]
        )
        ax_probs.set_ylabel(r"probability $p_c$")
        ax_probs.set_title(r"$p = \mathrm{softmax}(z)$, target in red", fontsize="medium")

        # The largest loss on the grid: the target logit at -bound, every other logit at +bound.
        max_loss = 2 * bound + torch.log(torch.tensor(n_classes - 1.0)).item()
        ax_loss.axhline(0.0, color="0.5", linestyle=":", linewidth=1)
        ax_loss.text(
            0.98,
            0.95,
            "dotted: ℓ = 0,\napproached, never reached",
            transform=ax_loss.transAxes,
            ha="right",
            va="top",
            color="0.4",
            fontsize="x-small",
        )
        self.curve = MarkedCurve(ax_loss, self.grid, torch.zeros_like(self.grid), marker_color=TARGET_COLOR)
        ax_loss.set_xlim(-bound, bound)
        ax_loss.set_ylim(-0.05 * max_loss, 1.08 * max_loss)
        ax_loss.set_ylabel(r"loss $\ell$")
        ax_loss.spines[["top", "right"]].set_visible(False)
        ax_loss.set_xlabel(r"target logit $z_y$")
        ax_loss.set_title(r"$\ell = -\log p_y$ against $z_y$, others fixed", fontsize="medium")
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.88, wspace=0.3)
        return fig, [*self.bars.artists, *self.curve.artists]  # bar and label colours move too: they mark the target

    def compute(self):
        self.logits = self.logit_panel.logits()  # (C,) float32
        self.target = self.target_selector.value
        target_index = torch.tensor(self.target)
        self.probabilities = torch.softmax(self.logits.double(), dim=0)  # (C,) float64
        self.loss = cross_entropy(self.logits.double(), target_index)  # 0-d float64: -log p_y
        self.loss_float32 = cross_entropy(self.logits, target_index)  # the same loss as float32 computes it
        self.curve_losses = loss_curve(self.logits, self.target, self.grid)  # (G,) float64

    def draw(self):
        self.bars.update(self.probabilities)
        for i, (bar, label) in enumerate(zip(self.bars.bars, self.bars.labels, strict=True)):
            bar.set_color(TARGET_COLOR if i == self.target else OTHER_COLOR)
            label.set_color(TARGET_COLOR if i == self.target else "black")  # marks the target when its bar is 0
        self.curve.update(y=self.curve_losses, point=(self.logits[self.target], self.loss))

    def readout_parts(self):
        return loss_parts(self.probabilities[self.target], self.target, self.loss, self.loss_float32)


def loss_parts(target_probability, target, loss, loss_float32):
    """['p₃ = 0.2478', 'ℓ = −log p₃ = 1.3951', 'in float32: 1.3951']."""
    y = subscript(target)
    return [
        f"p{y} = {float(target_probability):.4f}",
        f"ℓ = −log p{y} = {format_loss(loss)}",
        f"in float32: {format_loss(loss_float32)}",
    ]
