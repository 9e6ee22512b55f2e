"""losslab.widgets.toolkit: the controls, readout and chart image every explorer is built from, and the
`Explorer` base class's update cycle, shown on a small demo explorer."""

import base64

import ipywidgets
import pytest
import torch

from losslab.plots import ValueBars, figure, png_bytes
from losslab.widgets.toolkit import (
    ChartImage,
    Explorer,
    LogitPanel,
    Readout,
    TargetSelector,
    alpha_slider,
    label_selector,
    monospace_html,
    plain_text,
    pos_weight_slider,
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


def test_named_sliders_have_their_course_wide_labels_ranges_and_css_classes():
    alpha = alpha_slider(0.3)
    assert (alpha.description, alpha.value, alpha.min, alpha.max, alpha.step) == ("smoothing α", 0.3, 0.0, 1.0, 0.01)
    assert "losslab-alpha" in alpha._dom_classes and alpha.readout_format == ".2f"
    pos_weight = pos_weight_slider(2.5)
    assert (pos_weight.description, pos_weight.value) == ("pos_weight", 2.5)
    assert (pos_weight.min, pos_weight.max, pos_weight.step, pos_weight.readout_format) == (0.1, 10.0, 0.1, ".1f")
    assert "losslab-pos-weight" in pos_weight._dom_classes
    pos_weight.value = 0.0
    assert pos_weight.value == 0.1  # never 0


def test_label_selector_offers_hard_and_soft_labels_and_refuses_others():
    selector = label_selector(0.25)
    assert selector.value == 0.25 and selector.description == "label y"
    assert selector.options == (("0", 0.0), ("0.25", 0.25), ("0.5", 0.5), ("0.75", 0.75), ("1", 1.0))
    assert "losslab-label" in selector._dom_classes
    with pytest.raises(ValueError, match="got 0.3"):
        label_selector(0.3)


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


def test_chart_image_without_moving_artists_saves_the_whole_figure_and_can_show_another():
    fig = figure(figsize=(3, 2), dpi=80)
    ValueBars(fig.add_subplot(), [0.2, -0.4])
    chart = ChartImage(fig)
    chart.refresh()
    assert chart.png == png_bytes(fig)
    other = figure(figsize=(3, 2), dpi=80)
    ValueBars(other.add_subplot(), [0.9, 0.9])
    chart.show(other)
    chart.refresh()
    assert chart.figure is other and chart.png == png_bytes(other) != png_bytes(fig)


class Demo(Explorer):
    """Two logits and a target: bars of the logits, a readout of their sum. Records the calls it gets."""

    def __init__(self, *, recreate_figure=False):
        self.calls = []
        self.panel = LogitPanel([0.5, -0.5])
        self.target = TargetSelector(2)
        super().__init__([self.panel.widget, self.target.widget], recreate_figure=recreate_figure)

    def _make_chart(self):
        self.calls.append("make chart")
        fig = figure(figsize=(2, 1.5), dpi=50)
        self.bars = ValueBars(fig.add_subplot(), [0.0, 0.0])
        return fig, self.bars.artists

    def compute(self):
        self.calls.append("compute")
        self.logits = self.panel.logits()

    def draw(self):
        self.calls.append("draw")
        self.bars.update(self.logits / 10)

    def readout_parts(self):
        self.calls.append("readout")
        return [f"sum = {float(self.logits.sum()):.1f}", f"y = {self.target.value}"]


def test_explorer_computes_draws_and_reads_out_on_every_change_of_every_control():
    demo = Demo()
    assert demo.calls == ["make chart", "compute", "readout", "draw"]  # numbers first, then the chart
    assert demo.readout.value == monospace_html(["sum = 0.0", "y = 0"])
    first_png = demo.chart.png
    assert first_png.startswith(PNG_SIGNATURE)
    for control, value in ((demo.panel.sliders[1], 2.0), (demo.target.widget, 1)):
        demo.calls.clear()
        control.value = value
        assert demo.calls == ["compute", "readout", "draw"]
    assert demo.readout.value == monospace_html(["sum = 2.5", "y = 1"]) and demo.chart.png != first_png
    assert demo.image is demo.chart.widget and demo.figure is demo.chart.figure


def test_explorer_with_recreate_figure_makes_a_new_figure_per_change_and_saves_it_whole():
    demo, baseline = Demo(), Demo(recreate_figure=True)
    first_figure = baseline.figure
    baseline.calls.clear()
    for explorer in (demo, baseline):
        explorer.panel.sliders[0].value = -3.0
    assert baseline.calls == ["compute", "readout", "make chart", "draw"]
    assert baseline.figure is not first_figure and baseline.image is baseline.chart.widget
    assert baseline.chart.png == png_bytes(baseline.figure)
    assert baseline.readout.value == demo.readout.value


def test_explorer_displays_as_its_box_with_its_chart_and_its_state_as_text():
    demo = Demo()
    demo.target.value = 1
    bundle = demo._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == demo.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == demo.chart.png
    assert bundle["text/plain"] == (
        "Demo: logit z₀ = 0.5, logit z₁ = -0.5, target class y = 1 | sum = 0.0 · y = 1"
        " (run the notebook to use its controls)"
    )


def test_explorer_displays_without_the_widgets_own_mimebundle_as_on_ipywidgets_7(monkeypatch):
    """Colab still runs ipywidgets 7, whose widgets have no _repr_mimebundle_; the view is the same."""
    demo = Demo()
    expected = demo.widget._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]
    monkeypatch.delattr(ipywidgets.Widget, "_repr_mimebundle_")
    assert not hasattr(demo.widget, "_repr_mimebundle_")
    assert demo._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"] == expected


def test_plain_text_drops_tags_and_decodes_entities():
    assert plain_text(monospace_html(["a = 1", "b &lt; 2"])) == "a = 1 · b < 2"
    assert plain_text("<b>x</b>&nbsp;&nbsp; y\n z") == "x y z"


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
