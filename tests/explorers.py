"""Helpers for the tests of the explorers (`losslab.widgets`) whose logits are set by a `toolkit.LogitPanel`
(four sliders z₀..z₃) and whose readout lists numbers as "name = value"."""

import ast
import itertools
import re

EXTREME_LOGITS = [list(values) for values in itertools.product((-10.0, 10.0), repeat=4)]  # every corner


def readout_numbers(explorer):
    """The decimal numbers the readout shows, in order."""
    return re.findall(r"= (-?\d+\.\d+)", explorer.readout.value)


def set_logits(explorer, values):
    for slider, value in zip(explorer.logit_sliders, values, strict=True):
        slider.value = value


def assert_logit_sliders(explorer, count=4):
    """The logit sliders are labelled z₀, z₁, ..., run from -10 to 10 in steps of 0.1 and carry their CSS class."""
    assert len(explorer.logit_sliders) == count
    for i, slider in enumerate(explorer.logit_sliders):
        assert slider.description == f"logit z{'₀₁₂₃₄₅₆₇₈₉'[i]}"
        assert (slider.min, slider.max, slider.step) == (-10.0, 10.0, 0.1)
        assert f"losslab-logit-{i}" in slider._dom_classes


def assert_target_selector(explorer, count=4):
    """The target selector is labelled, offers the classes 0..count-1 and carries its CSS class."""
    selector = explorer.target_selector.widget
    assert selector.description == "target class y"
    assert [value for _, value in selector.options] == list(range(count))
    assert "losslab-target" in selector._dom_classes


def explorer_from_cell(source):
    """Run a notebook's widget cell (`from losslab.widgets.X import XExplorer` then `XExplorer(...)`) here and
    return the value of its last line: the same explorer the notebook shows."""
    *body, last = ast.parse(source).body
    namespace = {}
    exec(compile(ast.Module(body, type_ignores=[]), "<widget cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<widget cell>", "eval"), namespace)
