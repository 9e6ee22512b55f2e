"""losslab.plots: in-place bars and curves, and reproducible PNG rendering."""

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from PIL import Image

from losslab.plots import (
    FastPNG,
    MarkedCurve,
    OutlineText,
    ProbabilityBars,
    ValueBars,
    exact_paths,
    figure,
    png_bytes,
    png_from_pixels,
    steady_log_scale,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def bars_on_new_figure(probs, **kwargs):
    fig = figure(figsize=(3, 2), dpi=80)
    return fig, ProbabilityBars(fig.add_subplot(), probs, **kwargs)


def test_bars_show_the_probabilities_with_labels():
    _, bars = bars_on_new_figure([0.2, 0.3, 0.5])
    assert bars.heights == [0.2, 0.3, 0.5]
    assert [label.get_text() for label in bars.labels] == ["0.200", "0.300", "0.500"]
    assert [tick.get_text() for tick in bars.ax.get_xticklabels()] == ["0", "1", "2"]


def test_update_moves_the_existing_artists_and_creates_none():
    _, bars = bars_on_new_figure([0.2, 0.3, 0.5], decimals=2, tick_labels=["a", "b", "c"])
    artists_before = list(bars.ax.get_children())
    bars.update([1.0, 0.0, 0.0])
    assert bars.heights == [1.0, 0.0, 0.0]
    assert [label.get_text() for label in bars.labels] == ["1.00", "0.00", "0.00"]
    assert bars.labels[0].get_position()[1] > 1.0  # the label sits above its bar
    assert list(bars.ax.get_children()) == artists_before


def test_update_rejects_the_wrong_number_of_probabilities():
    _, bars = bars_on_new_figure([0.5, 0.5])
    with pytest.raises(ValueError, match="expected 2 values"):
        bars.update([0.2, 0.3, 0.5])


def test_figure_is_not_managed_by_pyplot():
    before = plt.get_fignums()
    bars_on_new_figure([0.5, 0.5])
    assert plt.get_fignums() == before


def test_png_bytes_are_reproducible_and_carry_no_version():
    fig, _ = bars_on_new_figure([0.2, 0.3, 0.5])
    first = png_bytes(fig)
    assert first.startswith(PNG_SIGNATURE)
    assert b"Software" not in first and b"atplotlib" not in first
    assert png_bytes(fig) == first
    other_fig, _ = bars_on_new_figure([0.2, 0.3, 0.5])
    assert png_bytes(other_fig) == first


def pixels(png):
    image = Image.open(io.BytesIO(png))
    return np.asarray(image.convert("RGBA")), image.info.get("dpi")


def test_fast_png_gives_the_pixels_of_a_full_draw():
    full_fig, full_bars = bars_on_new_figure([0.2, 0.3, 0.5])
    fast_fig, fast_bars = bars_on_new_figure([0.2, 0.3, 0.5])
    renderer = FastPNG(fast_fig, moving=fast_bars.artists)
    assert np.array_equal(pixels(renderer.render())[0], pixels(png_bytes(full_fig))[0])

    full_bars.update([0.9, 0.05, 0.05])
    fast_bars.update([0.9, 0.05, 0.05])
    assert np.array_equal(pixels(renderer.render())[0], pixels(png_bytes(full_fig))[0])


def test_png_from_pixels_is_lossless_and_records_the_dpi():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)  # (height, width, RGBA)
    decoded, dpi = pixels(png_from_pixels(image, dpi=90))
    assert np.array_equal(decoded, image)
    assert dpi == pytest.approx((90, 90), abs=0.01)


@pytest.mark.parametrize(
    ("image", "problem"),
    [(np.zeros((4, 4, 3), np.uint8), r"\(4, 4, 3\)"), (np.zeros((4, 4, 4), np.float32), "float32")],
)
def test_png_from_pixels_rejects_what_is_not_rgba_bytes(image, problem):
    with pytest.raises(ValueError, match=problem):
        png_from_pixels(image, dpi=100)


def test_png_from_pixels_of_a_chart_is_about_the_size_of_pillows():
    fig, _ = bars_on_new_figure([0.2, 0.3, 0.5])
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    assert len(png_from_pixels(np.asarray(canvas.buffer_rgba()), fig.dpi)) <= 1.25 * len(png_bytes(fig))


@pytest.mark.parametrize("ha", ["left", "center", "right"])
@pytest.mark.parametrize("va", ["bottom", "baseline", "center", "top"])
def test_outline_text_sits_where_text_would(ha, va):
    """The ink of an OutlineText and of the same Text at the same place: centres within 1.5 px, sizes within
    15% (Agg's hinting widens its glyphs)."""
    boxes = []
    for kind in (Text, OutlineText):
        fig = figure(figsize=(2, 1), dpi=100)
        fig.add_artist(kind(0.5, 0.5, "0.638", ha=ha, va=va, fontsize="small", transform=fig.transFigure))
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        ink = np.argwhere(np.asarray(canvas.buffer_rgba())[..., :3].min(axis=2) < 128)  # (row, column) pairs
        boxes.append((ink.min(axis=0), ink.max(axis=0)))
    (text_low, text_high), (outline_low, outline_high) = boxes
    assert np.abs((text_low + text_high) / 2 - (outline_low + outline_high) / 2).max() <= 1.5
    assert np.allclose(outline_high - outline_low, text_high - text_low, rtol=0.15)


def test_outline_text_draws_nothing_when_empty_or_hidden():
    blank = None
    for text, visible in (("", True), ("0.5", False)):
        fig = figure(figsize=(1, 1), dpi=50)
        fig.add_artist(OutlineText(0.5, 0.5, text, visible=visible, transform=fig.transFigure))
        image = pixels(png_bytes(fig))[0]
        blank = image if blank is None else blank
        assert np.array_equal(image, blank) and (image == 255).all()


def test_fast_png_changes_with_the_bars_and_returns_when_they_do():
    fig, bars = bars_on_new_figure([0.2, 0.3, 0.5])
    renderer = FastPNG(fig, moving=bars.artists)
    first = renderer.render()
    bars.update([0.6, 0.3, 0.1])
    changed = renderer.render()
    assert changed != first and changed.startswith(PNG_SIGNATURE)
    bars.update([0.2, 0.3, 0.5])
    assert renderer.render() == first


def test_value_bars_label_negative_values_below_and_never_minus_zero():
    fig = figure(figsize=(3, 2))
    bars = ValueBars(fig.add_subplot(), [0.5, -0.5, -0.00001], decimals=3)
    assert bars.heights == [0.5, -0.5, -0.00001]
    assert [label.get_text() for label in bars.labels] == ["0.500", "-0.500", "0.000"]
    assert [label.get_va() for label in bars.labels] == ["bottom", "top", "top"]
    with pytest.raises(ValueError, match="expected 3 values"):
        bars.update([1.0])


def test_marked_curve_moves_its_marker_and_curve_in_place():
    fig = figure(figsize=(3, 2))
    ax = fig.add_subplot()
    x = torch.linspace(0, 1, 5)
    curve = MarkedCurve(ax, x, x**2, point=(0.5, 0.25))
    children = list(ax.get_children())
    curve.update(point=(1.0, 1.0))
    assert list(curve.marker.get_data()[0]) == [1.0]
    curve.update(y=x**3)
    assert list(curve.line.get_ydata()) == (x**3).tolist()
    assert list(ax.get_children()) == children
    assert plt.get_fignums() == []


def test_steady_log_scale_ticks_as_log_does_and_rounds_each_log10():
    log_fig, steady_fig = figure((4, 3)), figure((4, 3))
    log_ax, steady_ax = log_fig.add_subplot(), steady_fig.add_subplot()
    log_ax.set_xscale("log")
    log_ax.set_yscale("log")
    steady_log_scale(steady_ax, "x")
    steady_log_scale(steady_ax, "y")
    for ax in (log_ax, steady_ax):
        ax.plot([1, 1000], [0.5, 2000])
        ax.set_xlim(1, 1000)
        ax.set_ylim(0.5, 2000)
        FigureCanvasAgg(ax.figure).draw()
    for log_axis, steady_axis in ((log_ax.xaxis, steady_ax.xaxis), (log_ax.yaxis, steady_ax.yaxis)):
        assert steady_axis.get_majorticklocs().tolist() == log_axis.get_majorticklocs().tolist()
        assert steady_axis.get_minorticklocs().tolist() == log_axis.get_minorticklocs().tolist()
        labels = [[t.get_text() for t in axis.get_ticklabels(which="both")] for axis in (log_axis, steady_axis)]
        assert labels[0] == labels[1] and "$\\mathdefault{10^{2}}$" in labels[0]
    logs = steady_ax.xaxis.get_transform().transform([2.0, 1000.0, 0.0])
    assert logs[0] == round(np.log10(2.0), 8) != np.log10(2.0) and logs[1] == 3.0 and logs[2] == -np.inf


def test_exact_paths_keeps_every_vertex_and_restores_the_setting():
    assert plt.rcParams["path.simplify"]
    with exact_paths():
        line = plt.Line2D(np.arange(200.0), np.arange(200.0))  # 200 collinear points
        assert not line.get_path().should_simplify
    assert plt.rcParams["path.simplify"] and plt.Line2D(np.arange(200.0), np.arange(200.0)).get_path().should_simplify
