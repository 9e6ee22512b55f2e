"""Notebook 03's stability explorer: scale the logits s·z and watch the loss ℓ = -log p_y computed as
-log(softmax(z)_y) break while -log_softmax(z)_y does not. Everything is computed in float32, the dtype of
most training runs."""

import math

import ipywidgets as widgets
import torch

from .._format import fmt
from ..plots import MarkedCurve, figure, steady_log_scale
from ..softmax import log_softmax, softmax
from .toolkit import Explorer, Readout, slider, subscript

BASE_LOGITS = (1.0, 0.0, -1.0)
TARGET = 2
MAX_SCALE = 1000


def naive_losses(logits, target):
    """ℓ = -log(softmax(z)_y) along the last dim: the log of a probability p_y that may have underflowed to 0."""
    return -softmax(logits, dim=-1).log()[..., target]


def stable_losses(logits, target):
    """ℓ = -log_softmax(z)_y along the last dim, that is logsumexp(z) - z_y: never the log of 0."""
    return -log_softmax(logits, dim=-1)[..., target]


def losses_and_gradients(loss_fn, logits, target):
    """The losses of (..., C) logits and their gradients with respect to the logits (rows are independent,
    so the gradient of the sum holds each row's own), both detached."""
    leaf = logits.detach().clone().requires_grad_(True)
    losses = loss_fn(leaf, target)
    (gradients,) = torch.autograd.grad(losses.sum(), leaf)
    return losses.detach(), gradients


def first_scale(scales, flags):
    """The first scale where flags is True, as an int, or None."""
    return int(scales[flags][0]) if flags.any() else None


class StabilityExplorer(Explorer):
    """A scale slider s; the loss ℓ = -log p_y of the logits s·z computed naively, log(softmax), and stably,
    log_softmax, side by side, with both curves over s and the naive one's break point."""

    description = (
        "a scale slider (1 to 1000) multiplying the logits; the loss ℓ = −log p_y computed naively, "
        "log(softmax), and stably, log_softmax, side by side, in float32"
    )

    def __init__(
        self, base_logits=BASE_LOGITS, target=TARGET, scale=10.0, max_scale=MAX_SCALE, *, recreate_figure=False
    ):
        self.base_logits = torch.tensor(base_logits, dtype=torch.float32)  # (C,)
        if self.base_logits.dim() != 1 or len(self.base_logits) < 2 or not self.base_logits.isfinite().all():
            raise ValueError(f"base_logits must be at least two finite numbers, one per class, got {base_logits}")
        n_classes = len(self.base_logits)
        if not 0 <= target < n_classes:
            raise ValueError(f"target must be a class in 0..{n_classes - 1}, got {target}")
        if max_scale < 2:
            raise ValueError(f"max_scale must be at least 2, got {max_scale}")
        self.target = target
        self.scale = slider("scale s", scale, 1.0, float(max_scale), 1.0, "losslab-scale", readout_format=".0f")

        # Both curves over every scale the slider can take, once: they never change.
        self.scales = torch.arange(1, max_scale + 1, dtype=torch.float32)  # (S,)
        grid = self.scales[:, None] * self.base_logits  # (S, C)
        self.naive_curve, naive_grads = losses_and_gradients(naive_losses, grid, target)  # (S,), (S, C)
        self.stable_curve = stable_losses(grid, target)  # (S,)
        self.break_scale = first_scale(self.scales, ~self.naive_curve.isfinite())  # naive loss inf or nan
        self.gradient_break_scale = first_scale(self.scales, ~naive_grads.isfinite().all(dim=1))  # naive gradient
        self.gradient_readout = Readout("losslab-gradient-readout")
        super().__init__([self.scale], recreate_figure=recreate_figure)

    def _layout(self, controls):
        return widgets.VBox([*controls, self.image, self.readout.widget, self.gradient_readout.widget])

    def _make_chart(self):
        fig = figure(figsize=(4.6, 2.9), dpi=90)
        self._draw_static(fig.add_subplot())
        fig.subplots_adjust(left=0.15, right=0.97, bottom=0.17, top=0.92)
        return fig, [self.stable.marker, self.naive.marker]

    def _draw_static(self, ax):
        finite = self.naive_curve.isfinite()
        last = int(finite.nonzero().max()) + 1 if finite.any() else 0  # the naive curve up to its break
        if self.break_scale is not None:
            last = min(last, self.break_scale - 1)
        positive = self.stable_curve[self.stable_curve > 0]
        low = float(positive.min()) / 2 if positive.numel() else 1e-3
        high = float(self.stable_curve.max()) * 2 if positive.numel() else 1.0
        y = subscript(self.target)
        self.stable = MarkedCurve(
            ax, self.scales, self.stable_curve, color="C0", marker_color="C0", label=f"stable: −log_softmax(z){y}"
        )
        self.stable.line.set_linewidth(4)
        self.stable.line.set_alpha(0.5)
        self.naive = MarkedCurve(
            ax,
            self.scales[:last],
            self.naive_curve[:last],
            color="C3",
            marker_color="C3",
            label=f"naive: −log(softmax(z){y})",
        )
        self.naive.line.set_linestyle("--")
        self.naive.marker.set_marker("D")
        self.naive.marker.set_markersize(5)
        if self.gradient_break_scale is not None:
            ax.axvline(self.gradient_break_scale, color="C1", linestyle="-.", linewidth=1)
            ax.text(
                self.gradient_break_scale / 1.1,
                low * 1.5,
                f"naive gradient\n→ inf/nan from s = {self.gradient_break_scale}",
                color="C1",
                fontsize="small",
                ha="right",
            )
        if self.break_scale is not None:
            ax.axvline(self.break_scale, color="C3", linestyle=":", linewidth=1)
            ax.text(
                self.break_scale * 1.1,
                low * 1.5,
                f"naive loss → inf\nfrom s = {self.break_scale}",
                color="C3",
                fontsize="small",
            )
        steady_log_scale(ax, "x")
        steady_log_scale(ax, "y")
        ax.set_xlim(1, float(self.scales[-1]))
        ax.set_ylim(low, high)
        ax.set_xlabel(f"scale s (logits s · [{', '.join(f'{v:g}' for v in self.base_logits.tolist())}])")
        ax.set_ylabel(f"loss ℓ = −log p{y}  (target y = {self.target})")
        ax.set_title("float32", fontsize="small", loc="right")
        ax.legend(loc="upper left", fontsize="small", frameon=False)
        ax.spines[["top", "right"]].set_visible(False)

    def compute(self):
        self.logits = self.scale.value * self.base_logits  # (C,), float32
        naive_loss, self.naive_grad = losses_and_gradients(naive_losses, self.logits, self.target)
        stable_loss, self.stable_grad = losses_and_gradients(stable_losses, self.logits, self.target)
        self.naive_loss, self.stable_loss = float(naive_loss), float(stable_loss)

    def draw(self):
        scale = self.scale.value
        self.stable.update(point=(scale, self.stable_loss))
        if math.isfinite(self.naive_loss):
            self.naive.update(point=(scale, self.naive_loss))
        else:
            self.naive.marker.set_data([], [])  # off the chart: the readout says inf

    def readout_parts(self):
        y = subscript(self.target)
        return [
            f"s = {self.scale.value:.0f}",
            f"z = {fmt(self.logits, '.0f')}",
            f"naive ℓ = −log(softmax(z){y}) = {fmt(self.naive_loss)}",
            f"stable ℓ = −log_softmax(z){y} = {fmt(self.stable_loss)}",
        ]

    def show_readouts(self):
        super().show_readouts()
        self.gradient_readout.show(
            ["gradient ∂ℓ/∂z", f"naive {fmt(self.naive_grad)}", f"stable {fmt(self.stable_grad)}"]
        )
