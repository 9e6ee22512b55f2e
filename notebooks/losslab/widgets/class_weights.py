"""Notebook 07's class-weights explorer: one weight slider per class w_c -> the weighted per-sample
losses w_{y_n} ℓ_n, PyTorch's weighted mean L = Σ_n w_{y_n} ℓ_n / Σ_n w_{y_n} and the naive mean
Σ_n w_{y_n} ℓ_n / N."""

import math

import torch

from .._format import fmt
from ..cross_entropy import cross_entropy
from ..plots import ValueBars, figure, outline_text
from .toolkit import Explorer, slider, subscript

# Notebook 07's running example: three samples, three classes, each class the target of one sample.
EXAMPLE_LOGITS = ((2.0, 1.0, 0.1), (0.5, 2.5, 0.3), (1.0, 1.0, 3.0))
EXAMPLE_TARGETS = (0, 1, 2)
EXAMPLE_WEIGHTS = (1.0, 2.0, 3.0)
ALL_WEIGHTS_ZERO = "nan: every target weight is 0"


class ClassWeightsExplorer(Explorer):
    """Class-weight sliders; bars of the weighted per-sample losses with the two means as lines."""

    description = "class-weight sliders with the weighted losses, PyTorch's weighted mean and the naive mean"

    def __init__(
        self,
        logits=EXAMPLE_LOGITS,
        targets=EXAMPLE_TARGETS,
        weights=EXAMPLE_WEIGHTS,
        max_weight=5.0,
        *,
        recreate_figure=False,
    ):
        self.logits = torch.as_tensor(logits, dtype=torch.float32)  # (N, C)
        self.targets = torch.as_tensor(targets, dtype=torch.long)  # (N,)
        if self.logits.dim() != 2 or self.targets.shape != self.logits.shape[:1]:
            raise ValueError(
                f"give logits of shape (N, C) and targets of shape (N,), got {tuple(self.logits.shape)} "
                f"and {tuple(self.targets.shape)}"
            )
        n_classes = self.logits.shape[1]
        if len(weights) != n_classes:
            raise ValueError(f"give one weight per class ({n_classes}), got {len(weights)}")
        if not ((0 <= self.targets) & (self.targets < n_classes)).all():
            raise ValueError(f"the targets must be classes in 0..{n_classes - 1}, got {self.targets.tolist()}")
        if not max_weight > 0:
            raise ValueError(f"max_weight must be > 0, got {max_weight}")

        self.max_weight = max_weight
        self.weight_sliders = [
            slider(f"weight w{subscript(c)}", float(w), 0.0, max_weight, 0.1, f"losslab-weight-{c}", ".1f")
            for c, w in enumerate(weights)
        ]
        self.losses = cross_entropy(self.logits, self.targets, reduction="none")  # (N,), unweighted: fixed
        super().__init__(self.weight_sliders, recreate_figure=recreate_figure)

    def _make_chart(self):
        # The tallest bar possible is max_weight times the largest loss; the means stay below it.
        # The extra room at the top holds the two means, written in their lines' colours.
        top = 1.6 * self.max_weight * float(self.losses.max())
        fig = figure(figsize=(4.8, 2.7), dpi=90)
        ax = fig.add_subplot()
        tick_labels = [f"sample {n}\ny = {int(t)}" for n, t in enumerate(self.targets)]
        self.bars = ValueBars(ax, [0.0] * len(self.targets), tick_labels=tick_labels, decimals=3, ylim=(0.0, top))
        ax.set_ylabel(r"weighted loss $w_{y_n} \ell_n$")
        self.weighted_line = ax.axhline(0.0, color="C3", linewidth=1.6)
        self.naive_line = ax.axhline(0.0, color="C1", linewidth=1.6, linestyle="--")
        text_style = {"transform": ax.transAxes, "ha": "left", "va": "top", "fontsize": "small"}
        self.weighted_text = outline_text(ax, 0.02, 0.98, "", color="C3", **text_style)
        self.naive_text = outline_text(ax, 0.02, 0.89, "", color="C1", **text_style)
        fig.subplots_adjust(left=0.15, right=0.97, bottom=0.2, top=0.96)
        return fig, [*self.bars.artists, self.weighted_line, self.naive_line, self.weighted_text, self.naive_text]

    def compute(self):
        self.weights = torch.tensor([s.value for s in self.weight_sliders], dtype=torch.float32)  # (C,)
        self.weighted_losses = cross_entropy(self.logits, self.targets, weight=self.weights, reduction="none")  # (N,)
        # PyTorch's L = Σ w_{y_n} ℓ_n / Σ w_{y_n}, nan if every w_{y_n} is 0; and the naive Σ w_{y_n} ℓ_n / N
        self.weighted_mean = float(cross_entropy(self.logits, self.targets, weight=self.weights))
        self.naive_mean = float(self.weighted_losses.mean())
        self.target_weight_sum = float(self.weights[self.targets].sum())

    def _weighted_mean_text(self):
        return ALL_WEIGHTS_ZERO if math.isnan(self.weighted_mean) else fmt(self.weighted_mean)

    def draw(self):
        self.bars.update(self.weighted_losses)
        self.naive_line.set_ydata([self.naive_mean, self.naive_mean])
        self.naive_text.set_text(f"- - naive mean: {fmt(self.naive_mean)}")
        self.weighted_line.set_visible(not math.isnan(self.weighted_mean))
        self.weighted_line.set_ydata([self.weighted_mean, self.weighted_mean])
        self.weighted_text.set_text(f"—— weighted mean L (PyTorch): {self._weighted_mean_text()}")

    def readout_parts(self):
        return [
            f"weighted mean L (PyTorch) = {self._weighted_mean_text()}",
            f"naive mean = {fmt(self.naive_mean)}",
            f"Σ w_yₙ·ℓₙ = {fmt(self.weighted_losses.sum())}",
            f"Σ w_yₙ = {fmt(self.target_weight_sum)}",
            f"N = {len(self.targets)}",
        ]
