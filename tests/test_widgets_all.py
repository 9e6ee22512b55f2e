"""Every explorer in losslab.widgets, driven through all its controls: no setting raises.

Found automatically (every `Explorer` subclass in a `losslab.widgets` module), so a new explorer
is covered without being listed here. Each control is set to its extremes, out of range, and to
seeded random values, alone and in combination with the others.
"""

import random

import ipywidgets as widgets
import pytest

from losslab.widgets import all_explorers


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
def test_shows_a_text_fallback_without_a_kernel(explorer_class):
    bundle = explorer_class()._repr_mimebundle_()
    assert bundle["text/plain"].startswith(explorer_class.__name__ + ": ")
    assert "application/vnd.jupyter.widget-view+json" in bundle
