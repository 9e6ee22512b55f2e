"""Every explorer in losslab.widgets, driven through all its controls: what each must do alike.

Found automatically (every `Explorer` subclass in a `losslab.widgets` module), so a new explorer
is covered without being listed here. Each control is set to its extremes, out of range, and to
seeded random values, alone and in combination with the others: no setting raises. Every explorer
keeps its state to itself (two of them share nothing), updates its chart in place (no new figures, no
new artists), shows it as a PNG that changes with every control and is byte-identical for the same
settings, and displays as its box with its chart as a PNG and its settings and readouts as text for
viewers without a kernel. A change made in the page is not echoed back to it. With
`recreate_figure=True` (the baseline `make bench` compares with) it shows the same readouts and
picture from a new figure per change, leaving none behind. Its readouts and images
are found by walking `explorer.widget` (every `ipywidgets.HTML` and `ipywidgets.Image` in it). What each
explorer computes and shows is tested in its own test_widgets_<module>.py.
"""

import base64
import gc
import io
import random
import re
import weakref

import ipywidgets as widgets
import matplotlib.image
import matplotlib.pyplot as plt
import pytest
import torch

from losslab.widgets import all_explorers, toolkit
from losslab.widgets.toolkit import plain_text, walk

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def candidate_values(control, rng):
    """Values a user (or a typed-in readout) can give this control."""
    if isinstance(control, widgets.Checkbox):
        return [True, False]
    if isinstance(control, widgets.widget_selection._Selection):
        return list(control._options_values)
    low, high = control.min, control.max
    values = [low, high, (low + high) / 2, low - 1e6, high + 1e6]
    values += [rng.uniform(low, high) for _ in range(5)]
    if isinstance(control, widgets.IntSlider):
        values = [int(round(v)) for v in values]
    return values


EXPLORERS = all_explorers()


def test_every_widget_module_has_an_explorer():
    assert EXPLORERS, "no Explorer subclasses found in losslab.widgets"


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_no_control_setting_raises(explorer_class):
    explorer = explorer_class()
    found = explorer.controls()
    assert found, f"{explorer_class.__name__} has no controls"
    for control in found:
        assert control.description, f"{explorer_class.__name__}: a control without a label"
        assert any(c.startswith("losslab-") for c in control._dom_classes), (
            f"{explorer_class.__name__}: control {control.description!r} has no losslab-... CSS class"
        )
    rng = random.Random(0)
    for control in found:  # each control alone, through its whole range
        for value in candidate_values(control, rng):
            control.value = value
    for _ in range(200):  # random combinations
        control = rng.choice(found)
        control.value = rng.choice(candidate_values(control, rng))
    assert "Traceback" not in str(explorer.widget.get_state())


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_displays_as_its_box_with_its_chart_and_its_numbers_for_viewers_without_a_kernel(explorer_class):
    explorer = explorer_class()
    for _ in change_every_control(explorer, random.Random(1)):  # the fallbacks show the current state
        pass
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id

    assert isinstance(bundle["image/png"], str)  # base64 text, as nbformat stores it
    png = base64.b64decode(bundle["image/png"], validate=True)
    assert png.startswith(PNG_SIGNATURE) and png == explorer.chart.png
    assert pixels(png).shape[:2] == (round(explorer.figure.bbox.height), round(explorer.figure.bbox.width))

    text = bundle["text/plain"]
    assert text.startswith(f"{explorer_class.__name__}: ")
    assert text.endswith(" (run the notebook to use its controls)")
    assert "<" not in text and "&" not in text and "  " not in text  # plain text: no HTML, one space at a time
    for control in explorer.controls():
        if isinstance(control, widgets.widget_selection._Selection):
            shown = control.label  # what its button says
        else:
            shown = format(control.value, control.readout_format)  # what its slider's readout says
        assert f"{control.description} = {shown}" in text
    for readout in readouts(explorer):
        for number in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", readout):
            assert number in text


def pixels(png):
    """The PNG decoded to a (height, width, 4) float array."""
    return matplotlib.image.imread(io.BytesIO(png))


def readouts(explorer):
    """The text of every HTML readout in the explorer's box."""
    return [w.value for w in walk(explorer.widget) if isinstance(w, widgets.HTML)]


def images(explorer):
    """The bytes of every image in the explorer's box (ipywidgets holds them as memoryviews)."""
    return [bytes(w.value) for w in walk(explorer.widget) if isinstance(w, widgets.Image)]


def settings(explorer):
    return [control.value for control in explorer.controls()]


def computed(explorer):
    """The explorer's tensors and numbers (what it computed), in a form where nan equals nan."""
    state = {}
    for name, value in vars(explorer).items():
        if isinstance(value, torch.Tensor):
            state[name] = (value.dtype, tuple(value.shape), value.detach().numpy().tobytes())
        elif isinstance(value, (int, float)):
            state[name] = repr(value)
    return state


def other_value(control, rng):
    """A value within the control's range, different from its current one."""
    if isinstance(control, widgets.Checkbox):
        return not control.value
    if isinstance(control, widgets.widget_selection._Selection):
        return rng.choice([value for value in control._options_values if value != control.value])
    while True:
        if isinstance(control, widgets.IntSlider):
            value = rng.randint(control.min, control.max)
        elif isinstance(control, widgets.FloatLogSlider):
            value = control.base ** rng.uniform(control.min, control.max)
        else:
            value = rng.uniform(control.min, control.max)
        if value != control.value:
            return value


def change_every_control(explorer, rng):
    """Set each control in turn to another value; yield the control after each change."""
    for control in explorer.controls():
        control.value = other_value(control, rng)
        yield control


def change_from_the_page(control):
    """Change `control` as the page does (a state message with the synced attribute the page sets) and
    return the messages the widget sends back for it."""
    if isinstance(control, widgets.widget_selection._Selection):
        state = {"index": (control.index + 1) % len(control.options)}
    else:
        state = {"value": control.max if control.value != control.max else control.min}
    sent = []
    control._send = lambda msg, buffers=None: sent.append(msg)
    try:
        control.set_state(state)
    finally:
        del control._send
    name, value = next(iter(state.items()))
    assert getattr(control, name) == value, f"the page's {name} = {value} was not applied"
    return sent


def test_a_stock_control_echoes_what_the_page_sets():
    """What the next test rules out for the toolkit's controls is there with stock ipywidgets."""
    assert [msg["method"] for msg in change_from_the_page(widgets.FloatSlider())] == ["echo_update"]


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_controls_do_not_echo_what_the_page_sets(explorer_class):
    """The page already shows a value a person sets: the kernel's echo of it would be one more message
    ahead of the readout's (see losslab.widgets.toolkit)."""
    explorer = explorer_class()
    for control in explorer.controls():
        sent = change_from_the_page(control)
        assert not [msg for msg in sent if msg["method"] == "echo_update"], f"{type(control).__name__} echoes"


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_has_readouts_with_css_classes_and_one_chart_image(explorer_class):
    explorer = explorer_class()
    assert readouts(explorer) and all(readouts(explorer)), "no readout, or an empty one"
    assert "losslab-readout" in explorer.readout.widget._dom_classes
    for html in walk(explorer.widget):
        if isinstance(html, widgets.HTML):
            assert any(c.startswith("losslab-") for c in html._dom_classes), "a readout without a losslab-... class"
    assert len(images(explorer)) == 1, "one chart image"


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_two_explorers_do_not_share_state(explorer_class):
    first, second = explorer_class(), explorer_class()
    before = (readouts(second), images(second), settings(second), computed(second))
    assert (readouts(first), images(first), settings(first)) == before[:3]
    for _ in change_every_control(first, random.Random(0)):
        pass
    assert first.readout.value != second.readout.value and images(first) != before[1]
    assert (readouts(second), images(second), settings(second), computed(second)) == before
    assert first.figure is not second.figure


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_updates_create_no_figures_and_no_artists(explorer_class):
    figures_before = plt.get_fignums()
    explorer = explorer_class()
    figure = explorer.figure
    artists = [list(figure.get_children()), *(list(ax.get_children()) for ax in figure.axes)]
    rng = random.Random(0)
    for control in explorer.controls():
        for value in candidate_values(control, rng):
            control.value = value
    for _ in range(3):
        for _ in change_every_control(explorer, rng):
            pass
    assert plt.get_fignums() == figures_before  # nothing for the inline backend to show
    assert [list(figure.get_children()), *(list(ax.get_children()) for ax in figure.axes)] == artists


def far_values(control):
    """Values within the control's range, other than its current one: its ends, or every other option."""
    if isinstance(control, widgets.Checkbox):
        return [not control.value]
    if isinstance(control, widgets.widget_selection._Selection):
        return [value for value in control._options_values if value != control.value]
    low, high = control.min, control.max
    if isinstance(control, widgets.FloatLogSlider):
        low, high = control.base**low, control.base**high
    return [value for value in (low, high) if value != control.value]


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_image_is_a_png_that_changes_with_every_control_and_is_reproducible(explorer_class):
    """From the initial settings, each control alone at each of its far values changes the image (a PNG),
    and putting it back gives the initial bytes; so does putting back every control at once. (Two far
    settings may draw the same picture: at z₀ = 10 and at T = 0.1 softmax's bars both read 1.000, 0.000, ...)"""
    explorer = explorer_class()
    initial = images(explorer)
    assert all(image.startswith(PNG_SIGNATURE) for image in initial)
    for control in explorer.controls():
        original = control.value
        for value in far_values(control):
            control.value = value
            shown = images(explorer)
            assert all(image.startswith(PNG_SIGNATURE) for image in shown)
            setting = f"{control.description} = {value}"
            assert shown != initial, f"{setting} shows the image of the initial settings"
            control.value = original
            assert images(explorer) == initial, f"back from {setting}"  # same settings, same bytes
    initial_settings = settings(explorer)
    for _ in change_every_control(explorer, random.Random(0)):
        pass
    assert images(explorer) != initial
    for control, value in zip(explorer.controls(), initial_settings, strict=True):
        control.value = value
    assert images(explorer) == initial
    assert images(explorer_class()) == initial


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_the_recreate_figure_baseline_shows_the_same_readouts_and_the_same_picture(explorer_class):
    """With recreate_figure=True every change makes a new figure and saves it whole: the readouts are the
    same, the PNG the same size with near-identical pixels (blitting draws the moving artists over the
    static ones, a full draw by z-order), and no figure is left behind."""
    figures_before = plt.get_fignums()
    ours, baseline = explorer_class(), explorer_class(recreate_figure=True)
    rng = random.Random(2)
    for _ in range(2):
        for control, baseline_control in zip(ours.controls(), baseline.controls(), strict=True):
            old_figure = weakref.ref(baseline.figure)
            control.value = other_value(control, rng)
            baseline_control.value = control.value
            assert baseline.figure is not old_figure()
            assert readouts(baseline) == readouts(ours)
            ours_pixels, baseline_pixels = pixels(ours.chart.png), pixels(baseline.chart.png)
            assert baseline_pixels.shape == ours_pixels.shape
            different = (abs(baseline_pixels - ours_pixels).max(axis=2) > 0.1).mean()
            assert different < 0.01, f"{different:.2%} of the pixels differ after {control.description} changed"
    gc.collect()
    assert old_figure() is None, "the replaced figure is still referenced"
    assert plt.get_fignums() == figures_before


@pytest.mark.parametrize("explorer_class", EXPLORERS, ids=lambda cls: cls.__name__)
def test_projector_mode_makes_the_chart_large_and_leaves_the_default_alone(explorer_class):
    """setup(presentation=True): the chart at least 900 px wide with no text under 20 px, shown at its size,
    and a larger readout, with the same numbers; an explorer made afterwards in default mode is unchanged."""
    default = explorer_class()
    try:
        toolkit.set_projector_mode(True)
        projected = explorer_class()
    finally:
        toolkit.set_projector_mode(False)
    width, _ = png_size(projected.chart.png)
    assert width >= toolkit.PROJECTOR_MIN_WIDTH_PX
    assert projected.image.layout.width == f"{width}px", "shown at its own size, not scaled down"
    assert toolkit.smallest_text_px(projected.figure) >= toolkit.PROJECTOR_MIN_TEXT_PX
    assert toolkit.PROJECTOR_READOUT_FONT_SIZE in projected.readout.value
    assert plain_text(projected.readout.value) == plain_text(default.readout.value)
    again = explorer_class()
    assert again.chart.png == default.chart.png and again.readout.value == default.readout.value
    before = projected.chart.png
    for _ in change_every_control(projected, random.Random(2)):  # still updates in place, at the large size
        pass
    assert projected.chart.png != before and png_size(projected.chart.png)[0] == width


def png_size(png):
    """(width, height) in pixels, read from the PNG header."""
    assert png.startswith(PNG_SIGNATURE)
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
