"""Notebook 08's calibration explorer: a training run (cross-entropy, label smoothing 0.1 or 0.3, the double
softmax) and an epoch -> the held-out reliability diagram, the confidence histogram and a readout of the
accuracy, mean confidence, ECE and mean logit norm at that epoch.

It trains nothing: it reads the runs `losslab.training.course_runs()` trained once per process (the
notebook's own runs, when the notebook made them), or the `runs` it is given."""

import ipywidgets as widgets
import torch

from .._format import fmt
from ..plots import figure, outline_text
from ..training import course_runs, held_out_bins
from .toolkit import SLIDER_LAYOUT, SLIDER_STYLE, Explorer, NoEchoIntSlider, NoEchoToggleButtons

N_BINS = 15


class CalibrationExplorer(Explorer):
    """Buttons for the run and an epoch slider; the reliability diagram (accuracy per confidence bin against the
    diagonal), the histogram of held-out confidences, and the readout of that epoch."""

    description = "run buttons and an epoch slider with the reliability diagram and the confidence histogram"

    def __init__(self, runs=None, run="cross-entropy", epoch=None, *, recreate_figure=False):
        self.runs = course_runs()[1] if runs is None else dict(runs)
        if not self.runs:
            raise ValueError("give at least one run: {name: History}, as losslab.training.course_runs() returns")
        if run not in self.runs:
            raise ValueError(f"the initial run must be one of {list(self.runs)}, got {run!r}")
        self.last_epoch = min(len(history.held_accuracy) for history in self.runs.values()) - 1
        self.run_buttons = NoEchoToggleButtons(
            options=list(self.runs),
            value=run,
            description="run",
            style={"description_width": "60px", "button_width": "130px"},
        )
        self.run_buttons.add_class("losslab-run")
        self.epoch = NoEchoIntSlider(
            value=self.last_epoch if epoch is None else epoch,
            min=0,
            max=self.last_epoch,
            step=1,
            description="epoch",
            style=SLIDER_STYLE,
            layout=SLIDER_LAYOUT,
        )
        self.epoch.add_class("losslab-epoch")
        super().__init__([self.run_buttons, self.epoch], recreate_figure=recreate_figure)

    def _layout(self, controls):
        return widgets.VBox([widgets.VBox(controls), self.image, self.readout.widget])

    def _make_chart(self):
        fig = figure(figsize=(6.8, 2.8), dpi=85)
        diagram_ax, histogram_ax = fig.subplots(1, 2)
        # One StepPatch per series (15 bins each), not 15 bars: fewer artists to redraw on every change.
        self.edges = torch.linspace(0, 1, N_BINS + 1, dtype=torch.float64).numpy()
        zeros = [0.0] * N_BINS
        for ax in (diagram_ax, histogram_ax):  # the bins' edges, faint, in the static background
            ax.vlines(self.edges[1:-1], 0, 1, color="0.92", linewidth=0.6, zorder=0)
        diagram_ax.plot([0, 1], [0, 1], ":", color="0.4", linewidth=1, label="calibrated")
        self.accuracy_bars = diagram_ax.stairs(zeros, self.edges, fill=True, color="C0", alpha=0.85)
        self.gap_bars = diagram_ax.stairs(zeros, self.edges, baseline=zeros, fill=True, color="C3", alpha=0.3)
        diagram_ax.set_xlim(0, 1)
        diagram_ax.set_ylim(0, 1)
        diagram_ax.set_xlabel("confidence (15 bins)")
        diagram_ax.set_ylabel("accuracy in the bin")
        diagram_ax.set_title("reliability diagram (held out)")
        # The labels that change are OutlineText (cached glyph outlines: a quarter of Text's redraw time), one
        # line each; their placeholder text lets projector mode size their fonts.
        label_style = {"va": "top", "fontsize": "small"}
        self.ece_text = outline_text(
            diagram_ax, 0.03, 0.95, "ECE = 0.0000", transform=diagram_ax.transAxes, **label_style
        )

        self.count_bars = histogram_ax.stairs(zeros, self.edges, fill=True, color="C1", alpha=0.85)
        n_held = self.runs[self.run_buttons.value].held_correct.shape[1]
        histogram_ax.set_xlim(0, 1)
        histogram_ax.set_ylim(0, 1.0)
        histogram_ax.set_xlabel("confidence (15 bins)")
        histogram_ax.set_ylabel(f"share of the {n_held} predictions")
        histogram_ax.set_title("confidence histogram")
        (self.accuracy_line,) = histogram_ax.plot([], [], "-", color="C0", linewidth=1.5)
        (self.confidence_line,) = histogram_ax.plot([], [], "--", color="C3", linewidth=1.5)
        self.accuracy_text = outline_text(
            histogram_ax, 0.03, 0.95, "— accuracy 0.0000", transform=histogram_ax.transAxes, **label_style
        )
        self.confidence_text = outline_text(
            histogram_ax, 0.03, 0.87, "- - mean confidence 0.0000", transform=histogram_ax.transAxes, **label_style
        )
        for ax in (diagram_ax, histogram_ax):
            ax.spines[["top", "right"]].set_visible(False)
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.18, top=0.9, wspace=0.32)
        moving = [self.accuracy_bars, self.gap_bars, self.count_bars, self.ece_text]
        return fig, [*moving, self.accuracy_line, self.confidence_line, self.accuracy_text, self.confidence_text]

    def compute(self):
        self.history = self.runs[self.run_buttons.value]
        self.shown_epoch = min(max(int(self.epoch.value), 0), self.last_epoch)
        bins = held_out_bins(self.history, self.shown_epoch, N_BINS)
        self.counts = bins.counts
        self.bin_accuracy = torch.nan_to_num(bins.accuracy)  # (B,): an empty bin drawn at 0
        self.bin_confidence = torch.nan_to_num(bins.confidence)
        self.accuracy = float(self.history.held_accuracy[self.shown_epoch])
        self.mean_confidence = float(self.history.held_confidence[self.shown_epoch])
        self.ece = float(self.history.held_ece[self.shown_epoch])
        self.logit_norm = float(self.history.held_logit_norm[self.shown_epoch])

    def draw(self):
        filled = self.counts > 0
        accuracy, confidence = self.bin_accuracy, self.bin_confidence
        self.accuracy_bars.set_data(accuracy.numpy())
        # the gap between each bin's accuracy and its mean confidence (none in an empty bin)
        lower = torch.where(filled, torch.minimum(accuracy, confidence), 0.0)
        upper = torch.where(filled, torch.maximum(accuracy, confidence), 0.0)
        self.gap_bars.set_data(upper.numpy(), baseline=lower.numpy())
        self.count_bars.set_data((self.counts.double() / self.counts.sum()).numpy())
        self.accuracy_line.set_data([self.accuracy] * 2, [0, 1])
        self.confidence_line.set_data([self.mean_confidence] * 2, [0, 1])
        self.ece_text.set_text(f"ECE = {fmt(self.ece)}")
        self.accuracy_text.set_text(f"— accuracy {fmt(self.accuracy)}")
        self.confidence_text.set_text(f"- - mean confidence {fmt(self.mean_confidence)}")

    def readout_parts(self):
        return [
            f"{self.run_buttons.value}, epoch {self.shown_epoch}",
            f"held-out accuracy = {fmt(self.accuracy)}",
            f"mean confidence = {fmt(self.mean_confidence)}",
            f"ECE = {fmt(self.ece)}",
            f"mean logit norm |z| = {fmt(self.logit_norm, '.2f')}",
        ]
