"""Every explorer in losslab.widgets, driven through all its controls: what each must do alike.

Found automatically (every `Explorer` subclass in a `losslab.widgets` module), so a new explorer
is covered without being listed here. Each control is set to its extremes, out of range, and to
seeded random values, alone and in combination with the others: no setting raises. Every explorer
keeps its state to itself (two of them share nothing), updates its chart in place (no new figures, no
new artists), shows it as a PNG that changes with every control and is byte-identical for the same
settings, and displays as its box with a text fallback. Its readouts and images are found by walking
`explorer.widget` (every `ipywidgets.HTML` and `ipywidgets.Image` in it). What each explorer computes
and shows is tested in its own test_widgets_<module>.py.
"""

import random

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest
import torch

from losslab.widgets import all_explorers

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
def test_displays_as_its_box_with_a_text_fallback_without_a_kernel(explorer_class):
    explorer = explorer_class()
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"].startswith(f"{explorer_class.__name__}: {explorer.description}")
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id


def walk(widget):
    """The widget and everything inside it, depth first."""
    yield widget
    if isinstance(widget, widgets.Box):
        for child in widget.children:
            yield from walk(child)


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
    """From the initial settings, each control alone at each of its far values gives an image of its own
    (a PNG), and putting it back gives the initial bytes; so does putting back every control at once."""
    explorer = explorer_class()
    initial = images(explorer)
    assert all(image.startswith(PNG_SIGNATURE) for image in initial)
    seen = {tuple(initial): "the initial settings"}
    for control in explorer.controls():
        original = control.value
        for value in far_values(control):
            control.value = value
            shown = tuple(images(explorer))
            assert all(image.startswith(PNG_SIGNATURE) for image in shown)
            setting = f"{control.description} = {value}"
            assert shown not in seen, f"{setting} shows the same image as {seen.get(shown)}"
            seen[shown] = setting
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
