"""Plot helpers shared by the notebooks, the widgets and `losslab.figures`.

Charts are drawn once and then updated in place, so a widget can redraw them
many times a second without creating new figures.
"""

import io

import matplotlib.image
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._format import fmt

# No "Software" entry (it holds the matplotlib version): the same plot gives the same bytes.
PNG_METADATA = {"Software": None}


def figure(figsize, dpi=100):
    """A figure outside pyplot: nothing displays it or keeps it alive behind your back."""
    return Figure(figsize=figsize, dpi=dpi)


def png_bytes(fig, **savefig_kwargs):
    """The figure rendered to PNG, byte-reproducibly."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata=PNG_METADATA, **savefig_kwargs)
    return buffer.getvalue()


class FastPNG:
    """Renders a figure to PNG bytes again and again, redrawing only what moves.

    A full matplotlib draw spends most of its time laying out text (ticks, labels, title).
    Here the static parts are drawn once and kept as a background; each `render()` pastes
    the background and draws only the `moving` artists on it (blitting), then encodes the
    pixels with the same encoder and metadata as `png_bytes`. Change only the moving artists
    between renders (e.g. bar heights and their labels), not the axes.
    """

    def __init__(self, fig, moving):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)  # a full draw skips animated artists: they are not in the background
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def render(self):
        self.canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        buffer = io.BytesIO()
        pixels = np.asarray(self.canvas.buffer_rgba())  # (height, width, 4), uint8
        matplotlib.image.imsave(buffer, pixels, format="png", dpi=self.fig.dpi, metadata=PNG_METADATA)
        return buffer.getvalue()


class ValueBars:
    """A bar chart of one vector of values on `ax`, with each value written next to its bar
    (above a positive bar, below a negative one), on fixed y-limits.

    `update(values)` moves the existing bars and labels; nothing is re-created.
    """

    def __init__(self, ax, values, tick_labels=None, decimals=3, color="C0", ylim=(-1.15, 1.15), yticks=None):
        n_bars = len(values)
        positions = range(n_bars)
        self.ax = ax
        self.decimals = decimals
        self.label_offset = 0.02 * (ylim[1] - ylim[0]) / 1.15
        self.bars = ax.bar(positions, [0.0] * n_bars, color=color, width=0.7)
        self.labels = [ax.text(i, 0.0, "", ha="center", fontsize="small") for i in positions]
        ax.set_xticks(positions, tick_labels or [str(i) for i in positions])
        ax.set_ylim(*ylim)
        if yticks is not None:
            ax.set_yticks(yticks)
        if ylim[0] < 0 < ylim[1]:
            ax.axhline(0.0, color="0.3", linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
        self.update(values)

    def update(self, values):
        """Set the bar heights (and their labels) to `values`, one value per bar."""
        values = [float(v) for v in values]
        if len(values) != len(self.bars):
            raise ValueError(f"expected {len(self.bars)} values (one per bar), got {len(values)}")
        for bar, label, value in zip(self.bars, self.labels, values, strict=True):
            bar.set_height(value)
            below = value < 0
            label.set_y(value - self.label_offset if below else value + self.label_offset)
            label.set_va("top" if below else "bottom")
            label.set_text(fmt(value, f".{self.decimals}f"))

    @property
    def artists(self):
        """Everything `update` changes: the bars and their labels."""
        return [*self.bars, *self.labels]

    @property
    def heights(self):
        return [bar.get_height() for bar in self.bars]


class ProbabilityBars(ValueBars):
    """ValueBars for a probability vector: y from 0 to 1.15 (room for a label above a bar of height 1)."""

    def __init__(self, ax, probs, tick_labels=None, decimals=3, color="C0"):
        super().__init__(ax, probs, tick_labels, decimals, color, ylim=(0.0, 1.15), yticks=[0.0, 0.5, 1.0])


class MarkedCurve:
    """A curve y(x) on `ax` with one marked point, both movable in place.

    `update(point=(x0, y0))` moves the marker; `update(y=new_y)` replaces the curve's y values
    (same x grid). Fix the axes limits yourself: they do not follow the data.
    """

    def __init__(self, ax, x, y, point=None, color="C0", marker_color="C3", label=None):
        self.ax = ax
        (self.line,) = ax.plot(x, y, color=color, label=label)
        (self.marker,) = ax.plot([], [], "o", color=marker_color, markersize=7, zorder=3)
        if point is not None:
            self.update(point=point)

    def update(self, y=None, point=None):
        if y is not None:
            self.line.set_ydata(y)
        if point is not None:
            x0, y0 = point
            self.marker.set_data([float(x0)], [float(y0)])

    @property
    def artists(self):
        return [self.line, self.marker]
