"""Plot helpers shared by the notebooks, the widgets and `losslab.figures`.

Charts are drawn once and then updated in place, so a widget can redraw them
many times a second without creating new figures.
"""

import io

import matplotlib.image
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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


class ProbabilityBars:
    """A bar chart of one probability vector on `ax`, with each value written above its bar.

    `update(probs)` moves the existing bars and labels; nothing is re-created.
    """

    def __init__(self, ax, probs, tick_labels=None, decimals=3, color="C0"):
        n_classes = len(probs)
        positions = range(n_classes)
        self.ax = ax
        self.decimals = decimals
        self.bars = ax.bar(positions, [0.0] * n_classes, color=color, width=0.7)
        self.labels = [ax.text(i, 0.0, "", ha="center", va="bottom", fontsize="small") for i in positions]
        ax.set_xticks(positions, tick_labels or [str(i) for i in positions])
        ax.set_ylim(0.0, 1.15)  # room for the label above a bar of height 1
        ax.set_yticks([0.0, 0.5, 1.0])
        ax.spines[["top", "right"]].set_visible(False)
        self.update(probs)

    def update(self, probs):
        """Set the bar heights (and their labels) to `probs`, one value per bar."""
        probs = [float(p) for p in probs]
        if len(probs) != len(self.bars):
            raise ValueError(f"expected {len(self.bars)} probabilities (one per bar), got {len(probs)}")
        for bar, label, p in zip(self.bars, self.labels, probs, strict=True):
            bar.set_height(p)
            label.set_y(p + 0.02)
            label.set_text(f"{p:.{self.decimals}f}")

    @property
    def artists(self):
        """Everything `update` changes: the bars and their labels."""
        return [*self.bars, *self.labels]

    @property
    def heights(self):
        return [bar.get_height() for bar in self.bars]
