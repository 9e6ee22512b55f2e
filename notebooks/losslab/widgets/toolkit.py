"""The parts every explorer is built from: labelled controls, a readout, an in-place chart image,
and the `Explorer` base class that displays them.

Controls carry a CSS class ("losslab-...") so browser tests can find them.
"""

import ipywidgets as widgets
import torch

from ..plots import FastPNG

SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SLIDER_STYLE = {"description_width": "100px"}
SLIDER_LAYOUT = {"width": "330px"}


def subscript(number):
    return str(number).translate(SUBSCRIPT_DIGITS)


def slider(description, value, min, max, step, css_class, readout_format=".2f"):
    """A labelled FloatSlider in the course's look. Values set outside [min, max] are clamped."""
    control = widgets.FloatSlider(
        value=value,
        min=min,
        max=max,
        step=step,
        readout_format=readout_format,
        description=description,
        style=SLIDER_STYLE,
        layout=SLIDER_LAYOUT,
    )
    control.add_class(css_class)
    return control


class LogitPanel:
    """One slider per class logit, labelled z₀, z₁, ...; `.logits()` reads them as a (C,) tensor.

    Each slider has the CSS class "losslab-logit-<i>" so browser tests can find it.
    """

    def __init__(self, logits, bound=10.0, step=0.1):
        self.sliders = [
            slider(f"logit z{subscript(i)}", float(value), -bound, bound, step, f"losslab-logit-{i}", ".1f")
            for i, value in enumerate(logits)
        ]
        self.widget = widgets.VBox(self.sliders)

    def logits(self):
        return torch.tensor([s.value for s in self.sliders], dtype=torch.float32)  # (C,)

    def observe(self, callback):
        """Call `callback(change)` whenever any logit changes."""
        for s in self.sliders:
            s.observe(callback, names="value")


class TargetSelector:
    """Buttons to pick the true class y among 0..C-1 (CSS class "losslab-target"); `.value` is an int."""

    def __init__(self, n_classes, value=0, description="target class y"):
        if not 0 <= value < n_classes:
            raise ValueError(f"the initial target must be a class in 0..{n_classes - 1}, got {value}")
        self.widget = widgets.ToggleButtons(
            options=[(str(c), c) for c in range(n_classes)],
            value=value,
            description=description,
            style={"description_width": SLIDER_STYLE["description_width"], "button_width": "40px"},
        )
        self.widget.add_class("losslab-target")

    @property
    def value(self):
        return self.widget.value

    @value.setter
    def value(self, target):
        self.widget.value = target

    def observe(self, callback):
        self.widget.observe(callback, names="value")


class Readout:
    """One line of numbers in monospace (CSS class "losslab-readout"): `show(["loss = 0.7437", ...])`."""

    def __init__(self, css_class="losslab-readout"):
        self.widget = widgets.HTML()
        self.widget.add_class(css_class)

    def show(self, parts):
        self.widget.value = monospace_html(parts)

    @property
    def value(self):
        return self.widget.value


def monospace_html(parts):
    """Parts joined by a middle dot, in monospace."""
    return f'<span style="font-family: monospace">{" &nbsp;·&nbsp; ".join(parts)}</span>'


class ChartImage:
    """A matplotlib figure shown as an ipywidgets.Image and redrawn in place.

    Make the figure once (with `plots.figure`), pass the artists that change (`moving`), change
    only those, then call `refresh()`: see `plots.FastPNG` for why this is fast.
    """

    def __init__(self, fig, moving, width_px=None):
        self.figure = fig
        self.renderer = FastPNG(fig, moving=moving)
        width_px = width_px or round(fig.get_figwidth() * fig.dpi)
        self.widget = widgets.Image(format="png", layout={"width": f"{width_px}px"})

    def refresh(self):
        self.widget.value = self.renderer.render()

    @property
    def png(self):
        return bytes(self.widget.value)  # ipywidgets holds it as a memoryview


class Explorer:
    """Base class: a subclass sets `self.widget` (its whole box); the explorer then displays as that
    box in a notebook, and as a short text where no kernel runs the widgets."""

    widget = None
    description = "an interactive widget"

    def controls(self):
        """The user-settable controls in this explorer's box, in display order."""
        return list(_controls_in(self.widget))

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"{type(self).__name__}: {self.description} (run the notebook to use its controls)"
        return bundle


CONTROL_TYPES = (widgets.FloatSlider, widgets.IntSlider, widgets.FloatLogSlider, widgets.Checkbox)


def _controls_in(widget):
    if isinstance(widget, widgets.Box):
        for child in widget.children:
            yield from _controls_in(child)
    elif isinstance(widget, CONTROL_TYPES) or isinstance(widget, widgets.widget_selection._Selection):
        yield widget
