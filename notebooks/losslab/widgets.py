"""Interactive explorers for the notebooks, built from ipywidgets and an in-place matplotlib chart.

Each explorer is a small object that owns its controls and its chart (no global state, so
re-running a cell gives a fresh, independent explorer) and displays as its `.widget` box:
a notebook cell is just `SoftmaxExplorer()`.

Updates never create figures or use Output widgets: the chart, made once, is redrawn to PNG
bytes that go into an `ipywidgets.Image`, and the numbers go into an HTML readout.
"""

import ipywidgets as widgets
import torch

from .plots import FastPNG, ProbabilityBars, figure
from .softmax import softmax

SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SLIDER_STYLE = {"description_width": "100px"}
SLIDER_LAYOUT = {"width": "330px"}


def subscript(number):
    return str(number).translate(SUBSCRIPT_DIGITS)


class LogitPanel:
    """One slider per class logit, labelled z₀, z₁, ...; `.logits()` reads them as a (C,) tensor.

    Each slider has the CSS class "losslab-logit-<i>" so browser tests can find it.
    """

    def __init__(self, logits, bound=10.0, step=0.1):
        self.sliders = [
            widgets.FloatSlider(
                value=float(value),
                min=-bound,
                max=bound,
                step=step,
                readout_format=".1f",
                description=f"logit z{subscript(i)}",
                style=SLIDER_STYLE,
                layout=SLIDER_LAYOUT,
            )
            for i, value in enumerate(logits)
        ]
        for i, slider in enumerate(self.sliders):
            slider.add_class(f"losslab-logit-{i}")
        self.widget = widgets.VBox(self.sliders)

    def logits(self):
        return torch.tensor([slider.value for slider in self.sliders], dtype=torch.float32)  # (C,)

    def observe(self, callback):
        """Call `callback(change)` whenever any logit changes."""
        for slider in self.sliders:
            slider.observe(callback, names="value")


class SoftmaxExplorer:
    """Logit sliders and a temperature slider; bars and a readout of softmax(z / T)."""

    def __init__(self, logits=(2.0, 1.0, 0.1, -1.0), temperature=1.0, min_temperature=0.1, max_temperature=5.0):
        if not min_temperature > 0:
            raise ValueError(f"min_temperature must be > 0 (softmax(z / T) divides by T), got {min_temperature}")
        self.logit_panel = LogitPanel(logits)
        self.logit_sliders = self.logit_panel.sliders
        self.temperature = widgets.FloatSlider(
            value=temperature,
            min=min_temperature,
            max=max_temperature,
            step=0.05,
            readout_format=".2f",
            description="temperature T",
            style=SLIDER_STYLE,
            layout=SLIDER_LAYOUT,
        )
        self.temperature.add_class("losslab-temperature")

        n_classes = len(self.logit_sliders)
        self.figure = figure(figsize=(3.4, 2.3), dpi=90)
        ax = self.figure.add_subplot()
        self.bars = ProbabilityBars(ax, [0.0] * n_classes, tick_labels=[f"p{subscript(i)}" for i in range(n_classes)])
        ax.set_ylabel("probability")
        ax.set_title("softmax(z / T)")
        self.figure.subplots_adjust(left=0.2, right=0.97, bottom=0.12, top=0.88)
        self.renderer = FastPNG(self.figure, moving=self.bars.artists)

        self.image = widgets.Image(format="png", layout={"width": "306px"})
        self.readout = widgets.HTML()
        self.readout.add_class("losslab-readout")

        controls = widgets.VBox([self.logit_panel.widget, self.temperature])
        self.widget = widgets.VBox([widgets.HBox([controls, self.image]), self.readout])

        self.probabilities = None  # (C,) tensor, set by update()
        self.logit_panel.observe(self.update)
        self.temperature.observe(self.update, names="value")
        self.update()

    def update(self, change=None):
        """Recompute softmax(z / T) from the sliders and refresh the chart and the readout."""
        self.probabilities = softmax(self.logit_panel.logits() / self.temperature.value, dim=0)  # (C,)
        self.bars.update(self.probabilities)
        self.image.value = self.renderer.render()
        self.readout.value = readout_html(self.probabilities)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "SoftmaxExplorer: an interactive widget (run the notebook to use its sliders)"
        return bundle


def readout_html(probs):
    """'p₀ = 0.6381 · p₁ = ... · sum = 1.0000', in monospace, 4 decimals."""
    parts = [f"p{subscript(i)} = {float(p):.4f}" for i, p in enumerate(probs)]
    parts.append(f"sum = {float(probs.sum()):.4f}")
    return f'<span style="font-family: monospace">{" &nbsp;·&nbsp; ".join(parts)}</span>'
