"""The parts every explorer is built from: labelled controls (logit panel, target and label selectors,
alpha and pos_weight sliders), a readout, an in-place chart image, and the `Explorer` base class that
runs their update cycle and displays them.

Controls carry a CSS class ("losslab-...") so browser tests can find them.
"""

import base64
import html
import math
import re

import ipywidgets as widgets
import torch
import traitlets
from matplotlib.text import Text

from ..plots import FastPNG, exact_paths, png_bytes

SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SLIDER_STYLE = {"description_width": "100px"}
SLIDER_LAYOUT = {"width": "330px"}
SOFT_LABELS = (0.0, 0.25, 0.5, 0.75, 1.0)  # the two hard labels and three soft ones
POS_WEIGHT_RANGE = (0.1, 10.0)

# Projector mode (`losslab.notebook.setup(presentation=True)`): a chart made for a laptop screen is some
# 300-560 px wide with 6-10 pt text, unreadable from the back of a lecture room. In projector mode every
# explorer made afterwards renders its chart at a higher dpi, so the same figure (same layout, same
# numbers) comes out at least PROJECTOR_MIN_WIDTH_PX wide with no text smaller than PROJECTOR_MIN_TEXT_PX
# (the height of a capital letter is about 70% of that); the readout is larger too.
PROJECTOR_MIN_WIDTH_PX = 900
PROJECTOR_MIN_TEXT_PX = 20
PROJECTOR_READOUT_FONT_SIZE = "170%"
_projector = {"on": False}


def set_projector_mode(on):
    """Turn projector mode on or off for the explorers made from now on."""
    _projector["on"] = bool(on)


def projector_mode():
    return _projector["on"]


def smallest_text_px(fig):
    """The font size in pixels of the smallest visible, non-empty text of `fig` at its dpi."""
    texts = fig.findobj(lambda a: isinstance(a, Text) and a.get_visible() and a.get_text().strip())
    return min(text.get_fontsize() for text in texts) * fig.dpi / 72


def scaled_for_projector(fig):
    """`fig` with its dpi raised (never lowered) so that it renders at least PROJECTOR_MIN_WIDTH_PX wide and
    its smallest text at least PROJECTOR_MIN_TEXT_PX high; text scales with the dpi, the layout stays."""
    scale = max(
        1.0, PROJECTOR_MIN_WIDTH_PX / (fig.get_figwidth() * fig.dpi), PROJECTOR_MIN_TEXT_PX / smallest_text_px(fig)
    )
    fig.set_dpi(math.ceil(fig.dpi * scale))  # a whole dpi, rounded up: no pixel lost to rounding
    return fig


# The controls the toolkit makes, without ipywidgets' echo. When a person moves a control, the page
# already shows the new value; ipywidgets 8 would still send it straight back ("echo_update", so that
# other pages open on the same kernel follow), one more message through the server and the page before
# the readout's, measured at 1-2 ms of the browser's latency from input to readout. The cost: a second
# browser tab on the same kernel sees the readout and the chart move, but not the control itself.
class NoEchoFloatSlider(widgets.FloatSlider):
    value = traitlets.CFloat(0.0, help="Float value").tag(sync=True, echo_update=False)


class NoEchoIntSlider(widgets.IntSlider):
    value = traitlets.CInt(0, help="Int value").tag(sync=True, echo_update=False)


class NoEchoToggleButtons(widgets.ToggleButtons):
    index = traitlets.Int(None, help="Selected index", allow_none=True).tag(sync=True, echo_update=False)


def subscript(number):
    return str(number).translate(SUBSCRIPT_DIGITS)


def slider(description, value, min, max, step, css_class, readout_format=".2f"):
    """A labelled FloatSlider in the course's look. Values set outside [min, max] are clamped."""
    control = NoEchoFloatSlider(
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


def alpha_slider(value=0.1, description="smoothing α"):
    """The label-smoothing alpha, 0 to 1 in steps of 0.01 (CSS class "losslab-alpha")."""
    return slider(description, value, 0.0, 1.0, 0.01, "losslab-alpha")


def pos_weight_slider(value=1.0, description="pos_weight"):
    """BCE's pos_weight, 0.1 to 10 in steps of 0.1 (CSS class "losslab-pos-weight"): never 0, which
    would drop the positive term altogether."""
    return slider(description, value, *POS_WEIGHT_RANGE, 0.1, "losslab-pos-weight", ".1f")


def label_selector(value=1.0, labels=SOFT_LABELS, description="label y"):
    """ToggleButtons for a binary label y (CSS class "losslab-label"); `.value` is a float in [0, 1]."""
    if value not in labels:
        raise ValueError(f"the initial label must be one of {list(labels)}, got {value}")
    control = NoEchoToggleButtons(
        options=[(f"{label:g}", float(label)) for label in labels],
        value=float(value),
        description=description,
        style={"description_width": SLIDER_STYLE["description_width"], "button_width": "52px"},
    )
    control.add_class("losslab-label")
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
        self.widget = NoEchoToggleButtons(
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
        self.font_size = PROJECTOR_READOUT_FONT_SIZE if projector_mode() else None

    def show(self, parts):
        self.widget.value = monospace_html(parts, self.font_size)

    @property
    def value(self):
        return self.widget.value


def monospace_html(parts, font_size=None):
    """Parts joined by a middle dot, in monospace (at `font_size`, a CSS size, if given)."""
    size = f"; font-size: {font_size}" if font_size else ""
    return f'<span style="font-family: monospace{size}">{" &nbsp;·&nbsp; ".join(parts)}</span>'


def plain_text(html_text):
    """HTML as one line of plain text: tags dropped, entities decoded, every run of spaces (&nbsp; too) one space."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", html_text)).split())


class ChartImage:
    """A matplotlib figure shown as an ipywidgets.Image.

    Make the figure once (with `plots.figure`), pass the artists that change (`moving`), change only
    those, then call `refresh()`: only they are redrawn (see `plots.FastPNG` for why this is fast).
    Without `moving`, every `refresh()` draws and saves the whole figure.
    """

    def __init__(self, fig, moving=None, width_px=None):
        width_px = width_px or int(fig.bbox.width)  # the PNG's width: Agg drops the fraction of a pixel
        self.widget = widgets.Image(format="png", layout={"width": f"{width_px}px"})
        self.show(fig, moving)

    def show(self, fig, moving=None):
        """Show `fig` from the next `refresh()` on, in place of the current figure."""
        self.figure = fig
        self.renderer = None if moving is None else FastPNG(fig, moving=moving)

    def refresh(self):
        self.widget.value = png_bytes(self.figure) if self.renderer is None else self.renderer.render()

    @property
    def png(self):
        return bytes(self.widget.value)  # ipywidgets holds it as a memoryview


class Explorer:
    """Base class of every explorer: controls, a chart and a readout that follow the controls.

    A subclass makes its controls (and whatever `_make_chart` needs), then calls
    `super().__init__(controls, recreate_figure=...)` with the widgets to show as its controls, and defines
    - `_make_chart()`: makes the figure with `plots.figure`, stores its artists on self, returns
      `(figure, moving_artists)`, the artists `draw()` changes;
    - `compute()`: the numbers from the controls, stored on self;
    - `draw()`: sets the artists' data from those numbers;
    - `readout_parts()`: the readout's parts, for `Readout.show`;
    - `_layout(controls)` if the controls beside the chart, readout below, is not the right box.
    Every control in the box then calls `update()` when its value changes.

    With `recreate_figure=True`, every update makes a brand-new figure and saves it whole instead: what a
    notebook that re-creates its figure per change pays, kept as the baseline `make bench` measures against.
    """

    description = "an interactive widget"

    def __init__(self, controls, *, recreate_figure=False):
        self.recreate_figure = recreate_figure
        self.projector = projector_mode()
        fig, moving = self._chart()
        self.chart = ChartImage(fig, None if recreate_figure else moving)
        self.readout = Readout()
        self.widget = self._layout(controls)
        for control in self.controls():
            control.observe(self.update, names="value")
        self.update()

    @property
    def figure(self):
        return self.chart.figure

    @property
    def image(self):
        return self.chart.widget

    def _chart(self):
        """`_make_chart()`, its figure scaled up in projector mode."""
        with exact_paths():  # the lines' paths are made here: keep every vertex on any CPU
            fig, moving = self._make_chart()
        if self.projector:
            scaled_for_projector(fig)
        return fig, moving

    def _layout(self, controls):
        return widgets.VBox([widgets.HBox([widgets.VBox(controls), self.image]), self.readout.widget])

    def update(self, change=None):
        """Recompute from the controls, show the readouts, then redraw the chart.

        The readouts go first: each trait change is its own message to the browser, so the numbers
        reach the page while the chart is still being rendered, and the chart's PNG follows."""
        self.compute()
        self.show_readouts()
        if self.recreate_figure:
            # The old figure goes with its last reference: `plots.figure` keeps none, pyplot never had it.
            self.chart.show(self._chart()[0])
        self.draw()  # a line it changes gets its new path when FastPNG (or png_bytes) draws it: exact there
        self.chart.refresh()

    def show_readouts(self):
        """Show `readout_parts()`; an explorer with more readouts extends this."""
        self.readout.show(self.readout_parts())

    def controls(self):
        """The user-settable controls in this explorer's box, in display order."""
        return [w for w in walk(self.widget) if isinstance(w, CONTROL_TYPES)]

    def as_text(self):
        """The controls' values as their readouts show them, then every readout, in one line of text."""
        settings = ", ".join(f"{control.description} = {_value_text(control)}" for control in self.controls())
        readouts = [plain_text(w.value) for w in walk(self.widget) if isinstance(w, widgets.HTML)]
        return " | ".join([settings, *readouts])

    def _repr_mimebundle_(self, **kwargs):
        """The widget box, with the chart as a PNG and the settings and readouts as text for viewers that
        cannot run widgets (GitHub shows the PNG)."""
        # Written out rather than asked of the widget: ipywidgets 7 (still on Colab) has no _repr_mimebundle_.
        view = {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}
        bundle = {"application/vnd.jupyter.widget-view+json": view}
        bundle["image/png"] = base64.b64encode(self.chart.png).decode("ascii")  # what nbformat stores
        bundle["text/plain"] = f"{type(self).__name__}: {self.as_text()} (run the notebook to use its controls)"
        return bundle


CONTROL_TYPES = (
    widgets.FloatSlider,
    widgets.IntSlider,
    widgets.FloatLogSlider,
    widgets.Checkbox,
    widgets.widget_selection._Selection,
)


def walk(widget):
    """The widget and everything inside it, depth first."""
    yield widget
    if isinstance(widget, widgets.Box):
        for child in widget.children:
            yield from walk(child)


def _value_text(control):
    """A control's value as the widget shows it: a selector's label, a slider's value in its readout format."""
    if isinstance(control, widgets.widget_selection._Selection):
        return control.label
    if hasattr(control, "readout_format"):
        return format(control.value, control.readout_format)
    return str(control.value)
