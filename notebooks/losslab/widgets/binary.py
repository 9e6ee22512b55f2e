"""Notebook 05's binary cross-entropy explorer: a logit z, a label (y = 0 or 1, or a soft label q) and
pos_weight -> the loss curve of BCE with logits over z, with the current z marked."""

import torch

from .._format import fmt
from ..binary import binary_cross_entropy_with_logits
from ..plots import MarkedCurve, figure
from .toolkit import Explorer, label_selector, pos_weight_slider, slider

LOGIT_BOUND = 10.0  # the logit slider and the chart's horizontal axis run from -10 to 10
LOSS_MAX = 12.0  # the chart's fixed y axis runs from 0 to 12; larger losses leave it at the top


def bce_with_logits_losses(logits, label, pos_weight):
    """Per-element BCE with logits of `logits` (any shape) against one label and one pos_weight, in float32."""
    logits = torch.as_tensor(logits, dtype=torch.float32)
    labels = torch.full_like(logits, float(label))
    return binary_cross_entropy_with_logits(
        logits, labels, reduction="none", pos_weight=torch.tensor(float(pos_weight))
    )


class BinaryCrossEntropyExplorer(Explorer):
    """A logit slider, a label selector and a pos_weight slider; the loss curve over z, the current point
    marked, and a readout of p = sigmoid(z), the loss ℓ and its slope dℓ/dz."""

    description = "logit, label and pos_weight controls with the curve of BCE with logits over z"

    def __init__(self, logit=2.0, label=1.0, pos_weight=1.0, grid_points=401, *, recreate_figure=False):
        self.logit = slider("logit z", logit, -LOGIT_BOUND, LOGIT_BOUND, 0.1, "losslab-logit", ".1f")
        self.label = label_selector(label, description="label y or q")
        self.pos_weight = pos_weight_slider(pos_weight)
        self.grid = torch.linspace(-LOGIT_BOUND, LOGIT_BOUND, grid_points)  # (G,) logits where the curve is drawn
        super().__init__([self.logit, self.label, self.pos_weight], recreate_figure=recreate_figure)

    def _make_chart(self):
        fig = figure(figsize=(4.2, 2.7), dpi=90)
        ax = fig.add_subplot()
        zeros = torch.zeros_like(self.grid)
        (self.unweighted_line,) = ax.plot(
            self.grid, zeros, color="0.6", linestyle="--", linewidth=1, label="pos_weight = 1"
        )
        self.curve = MarkedCurve(ax, self.grid, zeros, label="loss ℓ")
        self.curve.marker.set_clip_on(False)  # a loss above the chart is marked on its top edge
        ax.set_xlim(-LOGIT_BOUND - 0.5, LOGIT_BOUND + 0.5)
        ax.set_ylim(0.0, LOSS_MAX)
        ax.set_xlabel("logit z")
        ax.set_ylabel("loss ℓ")
        ax.set_title("BCE with logits over z (dashed: pos_weight = 1)", fontsize="medium")
        ax.spines[["top", "right"]].set_visible(False)
        fig.subplots_adjust(left=0.14, right=0.97, bottom=0.17, top=0.9)
        return fig, [self.unweighted_line, *self.curve.artists]

    def compute(self):
        label, pos_weight = self.label.value, self.pos_weight.value
        logit = torch.tensor(self.logit.value, dtype=torch.float32, requires_grad=True)
        loss = bce_with_logits_losses(logit, label, pos_weight)
        (slope,) = torch.autograd.grad(loss, logit)
        self.loss, self.slope = loss.detach(), slope  # 0-d float32 tensors
        self.probability = torch.sigmoid(logit.detach())
        self.curve_losses = bce_with_logits_losses(self.grid, label, pos_weight)  # (G,)
        self.unweighted_losses = bce_with_logits_losses(self.grid, label, 1.0)  # (G,)

    def draw(self):
        self.unweighted_line.set_ydata(self.unweighted_losses)
        off_chart = float(self.loss) > LOSS_MAX  # then mark the point at the top edge, pointing up
        self.curve.update(y=self.curve_losses, point=(self.logit.value, min(float(self.loss), LOSS_MAX)))
        self.curve.marker.set_marker("^" if off_chart else "o")

    def readout_parts(self):
        label = self.label.value
        return [
            f"p = σ(z) = {fmt(self.probability)}",
            f"{'y' if label in (0.0, 1.0) else 'q'} = {label:g}",  # a hard label y, or a soft label q
            f"pos_weight = {self.pos_weight.value:.1f}",
            f"loss ℓ = {fmt(self.loss)}",
            f"slope dℓ/dz = {fmt(self.slope)}",
        ]
