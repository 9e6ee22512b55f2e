"""Notebook 05's binary cross-entropy explorer: a logit x, a (soft) label y and pos_weight -> the loss
curve of BCE with logits over x, with the current x marked."""

import ipywidgets as widgets
import torch

from ..binary import binary_cross_entropy_with_logits
from ..plots import MarkedCurve, figure
from .toolkit import SLIDER_STYLE, ChartImage, Explorer, Readout, slider

LABELS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the label selector's choices: the two hard labels and three soft ones
LOGIT_BOUND = 10.0  # the logit slider and the chart's x axis run from -10 to 10
LOSS_MAX = 12.0  # the chart's fixed y axis runs from 0 to 12; larger losses leave it at the top
POS_WEIGHT_RANGE = (0.1, 10.0)


def label_selector(value=1.0, labels=LABELS, description="label y"):
    """ToggleButtons for the label y (CSS class "losslab-label"); `.value` is a float in [0, 1]."""
    if value not in labels:
        raise ValueError(f"the initial label must be one of {list(labels)}, got {value}")
    control = widgets.ToggleButtons(
        options=[(f"{label:g}", float(label)) for label in labels],
        value=float(value),
        description=description,
        style={"description_width": SLIDER_STYLE["description_width"], "button_width": "44px"},
    )
    control.add_class("losslab-label")
    return control


def bce_with_logits_losses(logits, label, pos_weight):
    """Per-element BCE with logits of `logits` (any shape) against one label and one pos_weight, in float32."""
    logits = torch.as_tensor(logits, dtype=torch.float32)
    labels = torch.full_like(logits, float(label))
    return binary_cross_entropy_with_logits(
        logits, labels, reduction="none", pos_weight=torch.tensor(float(pos_weight))
    )


def number(value, decimals=4):
    """A float at fixed decimals, never '-0.0000'."""
    text = f"{float(value):.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


class BinaryCrossEntropyExplorer(Explorer):
    """A logit slider, a label selector and a pos_weight slider; the loss curve over x, the current point
    marked, and a readout of p = sigmoid(x), the loss and its slope dloss/dx."""

    description = "logit, label and pos_weight controls with the curve of BCE with logits over x"

    def __init__(self, logit=2.0, label=1.0, pos_weight=1.0, grid_points=401):
        self.logit = slider("logit x", logit, -LOGIT_BOUND, LOGIT_BOUND, 0.1, "losslab-logit", ".1f")
        self.label = label_selector(label)
        self.pos_weight = slider("pos_weight", pos_weight, *POS_WEIGHT_RANGE, 0.1, "losslab-pos-weight", ".1f")
        self.grid = torch.linspace(-LOGIT_BOUND, LOGIT_BOUND, grid_points)  # (G,) logits where the curve is drawn

        self.figure = figure(figsize=(4.2, 2.7), dpi=90)
        ax = self.figure.add_subplot()
        zeros = torch.zeros_like(self.grid)
        (self.unweighted_line,) = ax.plot(
            self.grid, zeros, color="0.6", linestyle="--", linewidth=1, label="pos_weight = 1"
        )
        self.curve = MarkedCurve(ax, self.grid, zeros, label="loss")
        self.curve.marker.set_clip_on(False)  # a loss above the chart is marked on its top edge
        ax.set_xlim(-LOGIT_BOUND - 0.5, LOGIT_BOUND + 0.5)
        ax.set_ylim(0.0, LOSS_MAX)
        ax.set_xlabel("logit x")
        ax.set_ylabel("loss")
        ax.set_title("BCE with logits over x (dashed: pos_weight = 1)", fontsize="medium")
        ax.spines[["top", "right"]].set_visible(False)
        self.figure.subplots_adjust(left=0.14, right=0.97, bottom=0.17, top=0.9)
        self.chart = ChartImage(self.figure, moving=[self.unweighted_line, *self.curve.artists])
        self.image = self.chart.widget
        self.readout = Readout()

        controls = widgets.VBox([self.logit, self.label, self.pos_weight])
        self.widget = widgets.VBox([widgets.HBox([controls, self.image]), self.readout.widget])

        # Set by update(): 0-d float32 tensors, and the (G,) curves drawn on the chart.
        self.probability = self.loss = self.slope = None
        self.curve_losses = self.unweighted_losses = None
        for control in (self.logit, self.label, self.pos_weight):
            control.observe(self.update, names="value")
        self.update()

    def update(self, change=None):
        """Recompute the loss, its slope and both curves from the controls; refresh the chart and readout."""
        label, pos_weight = self.label.value, self.pos_weight.value
        logit = torch.tensor(self.logit.value, dtype=torch.float32, requires_grad=True)
        loss = bce_with_logits_losses(logit, label, pos_weight)
        (slope,) = torch.autograd.grad(loss, logit)
        self.loss, self.slope = loss.detach(), slope
        self.probability = torch.sigmoid(logit.detach())
        self.curve_losses = bce_with_logits_losses(self.grid, label, pos_weight)  # (G,)
        self.unweighted_losses = bce_with_logits_losses(self.grid, label, 1.0)  # (G,)

        self.unweighted_line.set_ydata(self.unweighted_losses)
        off_chart = float(self.loss) > LOSS_MAX  # then mark the point at the top edge, pointing up
        self.curve.update(y=self.curve_losses, point=(self.logit.value, min(float(self.loss), LOSS_MAX)))
        self.curve.marker.set_marker("^" if off_chart else "o")
        self.chart.refresh()
        self.readout.show(
            [
                f"p = σ(x) = {number(self.probability)}",
                f"y = {label:g}",
                f"pos_weight = {pos_weight:.1f}",
                f"loss = {number(self.loss)}",
                f"slope dloss/dx = {number(self.slope)}",
            ]
        )
