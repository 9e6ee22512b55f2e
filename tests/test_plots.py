"""losslab.plots: in-place bars and curves, and reproducible PNG rendering."""

import matplotlib.pyplot as plt
import pytest
import torch

from losslab.plots import FastPNG, MarkedCurve, ProbabilityBars, ValueBars, figure, png_bytes

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


def test_fast_png_gives_the_same_bytes_as_a_full_draw():
    full_fig, full_bars = bars_on_new_figure([0.2, 0.3, 0.5])
    fast_fig, fast_bars = bars_on_new_figure([0.2, 0.3, 0.5])
    renderer = FastPNG(fast_fig, moving=fast_bars.artists)
    assert renderer.render() == png_bytes(full_fig)

    full_bars.update([0.9, 0.05, 0.05])
    fast_bars.update([0.9, 0.05, 0.05])
    assert renderer.render() == png_bytes(full_fig)


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
