"""losslab.widgets.toolkit: the controls, readout and chart image every explorer is built from."""

import ipywidgets
import pytest
import torch

from losslab.plots import ValueBars, figure
from losslab.widgets.toolkit import (
    ChartImage,
    Explorer,
    LogitPanel,
    Readout,
    TargetSelector,
    monospace_html,
    slider,
    subscript,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_logit_panel_reads_its_sliders_and_reports_changes():
    panel = LogitPanel([0.5, -1.5, 2.0])
    assert torch.equal(panel.logits(), torch.tensor([0.5, -1.5, 2.0]))
    assert [s.description for s in panel.sliders] == ["logit z₀", "logit z₁", "logit z₂"]
    assert all(f"losslab-logit-{i}" in s._dom_classes for i, s in enumerate(panel.sliders))
    changes = []
    panel.observe(changes.append)
    panel.sliders[2].value = -3.0
    assert len(changes) == 1 and changes[0]["new"] == -3.0
    assert torch.equal(panel.logits(), torch.tensor([0.5, -1.5, -3.0]))


def test_logit_panel_clamps_to_its_bound():
    panel = LogitPanel([0.0, 0.0], bound=5.0)
    panel.sliders[0].value = 1e9
    panel.sliders[1].value = -1e9
    assert panel.logits().tolist() == [5.0, -5.0]


def test_slider_is_labelled_bounded_and_findable():
    control = slider("label smoothing α", 0.1, 0.0, 1.0, 0.01, "losslab-alpha")
    assert (control.description, control.min, control.max, control.step) == ("label smoothing α", 0.0, 1.0, 0.01)
    assert "losslab-alpha" in control._dom_classes
    control.value = 7.0
    assert control.value == 1.0


def test_target_selector_offers_every_class_and_reports_changes():
    selector = TargetSelector(4, value=3)
    assert selector.value == 3
    assert [value for _, value in selector.widget.options] == [0, 1, 2, 3]
    assert "losslab-target" in selector.widget._dom_classes
    changes = []
    selector.observe(changes.append)
    selector.value = 1
    assert selector.value == 1 and changes[0]["new"] == 1


def test_target_selector_refuses_a_class_that_does_not_exist():
    with pytest.raises(ValueError, match=r"a class in 0\.\.3, got 4"):
        TargetSelector(4, value=4)


def test_readout_shows_parts_in_monospace():
    readout = Readout()
    readout.show(["loss = 0.7437", "p₃ = 0.4754"])
    assert readout.value == monospace_html(["loss = 0.7437", "p₃ = 0.4754"])
    assert "loss = 0.7437 &nbsp;·&nbsp; p₃ = 0.4754" in readout.value
    assert "losslab-readout" in readout.widget._dom_classes


def test_chart_image_redraws_only_what_moves_and_is_reproducible():
    fig = figure(figsize=(3, 2), dpi=80)
    ax = fig.add_subplot()
    bars = ValueBars(ax, [0.2, -0.4])
    chart = ChartImage(fig, moving=bars.artists)
    assert chart.widget.layout.width == "240px"
    chart.refresh()
    first = chart.png
    assert first.startswith(PNG_SIGNATURE)
    bars.update([-0.9, 0.9])
    chart.refresh()
    assert chart.png != first
    bars.update([0.2, -0.4])
    chart.refresh()
    assert chart.png == first


def test_explorer_displays_as_its_widget_with_a_text_fallback():
    class Demo(Explorer):
        description = "a demo"

        def __init__(self):
            self.widget = Readout().widget

    bundle = Demo()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "Demo: a demo (run the notebook to use its controls)"


def test_subscript():
    assert subscript(12) == "₁₂"


def test_explorer_lists_its_controls_in_display_order():
    class Demo(Explorer):
        def __init__(self):
            self.panel = LogitPanel([0.0, 1.0])
            self.target = TargetSelector(2)
            self.widget = ipywidgets.VBox([ipywidgets.HBox([self.panel.widget, Readout().widget]), self.target.widget])

    demo = Demo()
    assert demo.controls() == [*demo.panel.sliders, demo.target.widget]
