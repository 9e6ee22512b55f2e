"""Notebook 06's label-smoothing explorer: alpha and the number of classes C -> the smoothed target q
and the per-sample loss ℓ(g) of the logits [g, 0, ..., 0] (true class y = 0) against the logit gap g, with its
minimum."""

import math

import ipywidgets as widgets
import torch

from .._format import fmt
from ..label_smoothing import loss_along_gap, optimal_logit_gap, smooth_targets
from ..plots import MarkedCurve, ProbabilityBars, figure, outline_text
from .toolkit import SLIDER_LAYOUT, SLIDER_STYLE, Explorer, NoEchoIntSlider, alpha_slider

MAX_CLASSES = 10
GAP_RANGE = (-2.0, 10.0)  # g* <= 6.9 for every alpha >= 0.01 and C <= 10: the minimum stays in view
LOSS_LIMIT = 3.5  # the minimum, H(q), is at most log(10) = 2.30
NO_MINIMUM = "no minimum: ℓ(g) keeps falling as g grows"


class LabelSmoothingExplorer(Explorer):
    """An alpha slider and a number of classes; bars of the smoothed target q, the per-sample loss ℓ(g) against
    the gap g with its minimum marked, and a readout of q_true, q_other, g* and ℓ(g*)."""

    description = "alpha and C sliders with the smoothed target q and the loss against the logit gap"

    def __init__(self, alpha=0.1, num_classes=5, gaps=None, *, recreate_figure=False):
        self.alpha = alpha_slider(alpha)
        self.classes = NoEchoIntSlider(
            value=num_classes,
            min=2,
            max=MAX_CLASSES,
            step=1,
            description="classes C",
            style=SLIDER_STYLE,
            layout=SLIDER_LAYOUT,
        )
        self.classes.add_class("losslab-classes")
        self.gaps = torch.linspace(*GAP_RANGE, 241, dtype=torch.float64) if gaps is None else torch.as_tensor(gaps)
        super().__init__([self.alpha, self.classes], recreate_figure=recreate_figure)

    def _layout(self, controls):
        return widgets.VBox([widgets.VBox(controls), self.image, self.readout.widget])

    def _make_chart(self):
        fig = figure(figsize=(6.6, 2.4), dpi=85)
        bars_ax, curve_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        self._draw_bars(bars_ax)
        self._draw_curve(curve_ax)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.2, top=0.88, wspace=0.3)
        moving = [*self.bars.artists, *self.class_labels, self.uniform_line, *self.curve.artists]
        return fig, [*moving, self.reference.line, self.optimum_line, self.no_minimum_text]

    def _draw_bars(self, ax):
        # Bars for the largest C; draw() hides those beyond the current C, so the axes never change.
        self.bars = ProbabilityBars(ax, [0.0] * MAX_CLASSES, decimals=2)
        self.bars.bars[0].set_color("C3")  # the true class
        ax.set_xticks([])
        self.class_labels = [
            outline_text(ax, c, -0.03, str(c), ha="center", va="top", fontsize="small") for c in range(MAX_CLASSES)
        ]
        (self.uniform_line,) = ax.plot([], [], ":", color="0.4", linewidth=1)
        ax.set_xlim(-0.6, MAX_CLASSES - 0.4)
        ax.set_xlabel("class (0 is the true class)", labelpad=12)
        ax.set_ylabel("target q_c")
        ax.set_title("smoothed target q")

    def _draw_curve(self, ax):
        zeros = torch.zeros_like(self.gaps).numpy()
        self.reference = MarkedCurve(ax, self.gaps.numpy(), zeros, color="0.6", label="α = 0")
        self.reference.line.set_linestyle("--")
        self.curve = MarkedCurve(ax, self.gaps.numpy(), zeros, color="C0", label="current α")
        self.optimum_line = ax.axvline(0.0, color="C3", linestyle=":", linewidth=1)
        self.no_minimum_text = outline_text(
            ax, 0.97, 0.93, NO_MINIMUM, transform=ax.transAxes, ha="right", va="top", fontsize="small", color="C3"
        )
        ax.set_xlim(*GAP_RANGE)
        ax.set_ylim(0.0, LOSS_LIMIT)
        ax.set_xlabel("logit gap g  (logits [g, 0, ..., 0], y = 0)")
        ax.set_ylabel("per-sample loss ℓ(g)")
        ax.set_title("ℓ(g) = H(q, p) against the gap g")
        ax.legend(loc="lower left", fontsize="small", frameon=False)
        ax.spines[["top", "right"]].set_visible(False)

    def compute(self):
        alpha, n_classes = float(self.alpha.value), int(self.classes.value)
        self.smoothed_target = smooth_targets(torch.tensor(0), n_classes, alpha, dtype=torch.float64)  # (C,): q
        self.losses = loss_along_gap(self.gaps, alpha, n_classes)  # (G,) float64: ℓ(g) at every gap
        self.reference_losses = loss_along_gap(self.gaps, 0.0, n_classes)  # (G,): the same without smoothing
        self.optimal_gap = optimal_logit_gap(alpha, n_classes)  # inf when alpha = 0 (no minimum)
        has_minimum = math.isfinite(self.optimal_gap)
        self.loss_at_optimum = float(loss_along_gap([self.optimal_gap], alpha, n_classes)[0]) if has_minimum else None

    def draw(self):
        n_classes = len(self.smoothed_target)
        has_minimum = math.isfinite(self.optimal_gap)
        self.bars.update(self.smoothed_target.tolist() + [0.0] * (MAX_CLASSES - n_classes))
        for c in range(MAX_CLASSES):
            for artist in (self.bars.bars[c], self.class_labels[c]):
                artist.set_visible(c < n_classes)
            self.bars.labels[c].set_visible(c < 2)  # every other class has class 1's value: one label says it
        self.uniform_line.set_data([-0.5, n_classes - 0.5], [1 / n_classes] * 2)

        self.reference.update(y=self.reference_losses.numpy())
        self.curve.update(y=self.losses.numpy())
        self.curve.marker.set_visible(has_minimum)
        self.optimum_line.set_visible(has_minimum)
        self.no_minimum_text.set_visible(not has_minimum)
        if has_minimum:
            self.curve.update(point=(self.optimal_gap, self.loss_at_optimum))
            self.optimum_line.set_xdata([self.optimal_gap] * 2)

    def readout_parts(self):
        return smoothing_parts(self.smoothed_target, self.optimal_gap, self.loss_at_optimum)


def smoothing_parts(smoothed_target, optimal_gap, loss_at_optimum):
    """['q_true = 0.9200', 'q_other = 0.0200', 'optimal gap g* = 3.8286', 'ℓ(g*) = 0.3897']: 4 decimals;
    without a minimum (alpha = 0) words instead of inf."""
    parts = [f"q_true = {float(smoothed_target[0]):.4f}", f"q_other = {float(smoothed_target[1]):.4f}"]
    if math.isfinite(optimal_gap):
        gap = fmt(torch.tensor(optimal_gap, dtype=torch.float64))  # a Python float would be rounded to float32
        return [*parts, f"optimal gap g* = {gap}", f"ℓ(g*) = {loss_at_optimum:.4f}"]
    return [*parts, "optimal gap: none, " + NO_MINIMUM, "ℓ(g) only approaches 0 as g → ∞"]
