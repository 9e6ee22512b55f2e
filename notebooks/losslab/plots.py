"""Plot helpers shared by the notebooks, the widgets and `losslab.figures`.

Charts are drawn once and then updated in place, so a widget can redraw them
many times a second without creating new figures.
"""

import contextlib
import io
import struct
import zlib

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.scale import LogScale
from matplotlib.text import Text
from matplotlib.textpath import TextPath, text_to_path
from matplotlib.transforms import Affine2D

from ._format import fmt

# No "Software" entry (it holds the matplotlib version): the same plot gives the same bytes.
PNG_METADATA = {"Software": None}


@contextlib.contextmanager
def exact_paths():
    """Lines made or drawn inside keep every vertex: no path simplification.

    Matplotlib drops nearly collinear vertices of a line of 128 points or more by a rounding test, and the
    last bits that tip it differ between CPUs (numpy's AVX2 and AVX-512 loops, torch's kernels): a long
    straight-looking curve, on log axes above all, then gives other pixels on another machine. Without
    simplification the pixels follow the data, and the same plot gives the same bytes on any CPU. (One
    setting is switched, not a whole rc_context, which copies every rcParam: this runs on every redraw.)"""
    previous = mpl.rcParams["path.simplify"]
    mpl.rcParams["path.simplify"] = False
    try:
        yield
    finally:
        mpl.rcParams["path.simplify"] = previous


LOG10_DECIMALS = 8  # a log axis' rounding: 1e-8 of a decade, a millionth of a pixel on a chart


def steady_log_scale(ax, which):
    """Give `ax` a base-10 log scale on its "x" or "y" axis that draws as matplotlib's "log" does, ticks
    and labels alike, but rounds every log10 to LOG10_DECIMALS decimals.

    numpy's log10 differs in its last bit between its AVX2 and AVX-512 loops, and Agg's stroke of a long,
    nearly straight line (its joins between almost collinear segments) can turn that bit into other
    pixels: the same chart, other bytes, on another CPU. Rounded, the vertices are the same everywhere."""

    def forward(values):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 -> -inf, below 0 -> nan: not drawn, as on "log"
            return np.round(np.log10(values), LOG10_DECIMALS)

    def inverse(logs):
        return np.power(10.0, logs)

    axis = {"x": ax.xaxis, "y": ax.yaxis}[which]
    (ax.set_xscale if which == "x" else ax.set_yscale)("function", functions=(forward, inverse))
    LogScale(axis).set_default_locators_and_formatters(axis)  # log ticks, minor ticks and 10^k labels


def figure(figsize, dpi=100):
    """A figure outside pyplot: nothing displays it or keeps it alive behind your back."""
    return Figure(figsize=figsize, dpi=dpi)


def png_bytes(fig, **savefig_kwargs):
    """The figure rendered to PNG, byte-reproducibly (make its lines inside `exact_paths()` too)."""
    buffer = io.BytesIO()
    with exact_paths():
        fig.savefig(buffer, format="png", metadata=PNG_METADATA, **savefig_kwargs)
    return buffer.getvalue()


def png_from_pixels(pixels, dpi):
    """RGBA pixels, shape (height, width, 4) uint8, as PNG bytes, with the dpi recorded (a pHYs chunk).

    Every row goes unfiltered into zlib at level 3. Pillow (what savefig uses) tries five filters on every row
    to save a few percent of bytes: on an explorer's chart that takes 3.1 ms, against 0.6 ms here, for a PNG
    of about the same size (from 5% smaller to 10% larger). A chart re-encoded on every slider move, for a
    whole class on one machine, pays for that time."""
    height, width, channels = pixels.shape
    if channels != 4 or pixels.dtype != np.uint8:
        raise ValueError(
            f"expected RGBA pixels of shape (height, width, 4) and dtype uint8, got {pixels.shape} {pixels.dtype}"
        )
    rows = np.zeros((height, 1 + 4 * width), dtype=np.uint8)  # each row: filter type 0 ("none"), then its pixels
    rows[:, 1:] = pixels.reshape(height, 4 * width)
    pixels_per_metre = round(dpi / 0.0254)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),  # 8 bits, RGBA, no interlace
        chunk(b"pHYs", struct.pack(">IIB", pixels_per_metre, pixels_per_metre, 1)),  # unit 1: the metre
        chunk(b"IDAT", zlib.compress(rows.tobytes(), 3)),
        chunk(b"IEND", b""),
    ])  # fmt: skip


class OutlineText(Text):
    """A single line of text drawn as the filled outlines of its glyphs rather than by the font rasteriser.

    Agg lays out and renders a string glyph by glyph on every draw: about 1.2 ms for a label such as "0.638".
    Here the outlines and the metrics of each string are computed once and kept (`_outline`), so redrawing a
    number that changes on every slider move is one path fill, about 0.3 ms. Placement follows Text's rules
    (horizontal and vertical alignment against the line's width, height and descent, the origin on a whole
    pixel); unhinted, the glyphs look a shade softer than Agg's. Mathtext, rotated, multi-line or boxed text
    is drawn as ordinary Text."""

    def draw(self, renderer):
        if not self.get_visible() or not self.get_text():
            return
        text, is_math = self._preprocess_math(self.get_text())
        if is_math or "\n" in text or self.get_rotation() or self.get_bbox_patch() is not None:
            return super().draw(renderer)
        scale = renderer.points_to_pixels(1.0)
        path, *metrics = _outline(text, self.get_fontproperties().copy())
        width, height, descent = (scale * metric for metric in metrics)
        x, y = self.get_transform().transform(self.get_unitless_position())
        x -= {"left": 0.0, "center": width / 2, "right": width}[self.get_horizontalalignment()]
        y += {"bottom": descent, "baseline": 0.0, "top": descent - height, "center": descent - height / 2,
              "center_baseline": (descent - height) / 2}[self.get_verticalalignment()]  # fmt: skip
        gc = renderer.new_gc()
        gc.set_linewidth(0)
        gc.set_alpha(self.get_alpha())
        gc.set_url(self.get_url())
        self._set_gc_clip(gc)
        transform = Affine2D().scale(scale).translate(round(x), round(y))
        renderer.draw_path(gc, path, transform, to_rgba(self.get_color(), self.get_alpha()))
        gc.restore()


def outline_text(ax, x, y, text, **kwargs):
    """`ax.text(x, y, text, **kwargs)` as an OutlineText: for text that changes on every redraw."""
    defaults = {"transform": ax.transData, "clip_on": False, "ha": "left", "va": "baseline"}  # ax.text's
    return ax.add_artist(OutlineText(x, y, text, **{**defaults, **kwargs}))


_OUTLINES = {}  # (text, font) -> _outline's result; a course's labels are a few thousand strings


def _outline(text, font):
    """The glyph outlines of `text` and the line's width, height and descent, in points from the left end of
    its baseline, measured on the outlines themselves (Agg's hinted glyphs run some 10% wider) with Text's
    rule for the line: at least the height and descent of "lp". Computed once per string and font."""
    key = (text, font)
    if key not in _OUTLINES:
        width, height, descent = text_to_path.get_text_width_height_descent(text, font, ismath=False)
        _, lp_height, lp_descent = text_to_path.get_text_width_height_descent("lp", font, ismath=False)
        if len(_OUTLINES) >= 4096:
            _OUTLINES.clear()
        _OUTLINES[key] = (TextPath((0, 0), text, prop=font), width, max(height, lp_height), max(descent, lp_descent))
    return _OUTLINES[key]


class FastPNG:
    """Renders a figure to PNG bytes again and again, redrawing only what moves.

    A full matplotlib draw spends most of its time laying out text (ticks, labels, title).
    Here the static parts are drawn once and kept as a background; each `render()` pastes
    the background and draws only the `moving` artists on it (blitting), then encodes the
    pixels with `png_from_pixels`. Change only the moving artists between renders (e.g. bar
    heights and their labels), not the axes. Labels that change make the render cheaper still
    as `OutlineText`.
    """

    def __init__(self, fig, moving):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)  # a full draw skips animated artists: they are not in the background
        with exact_paths():
            self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def render(self):
        self.canvas.restore_region(self.background)
        with exact_paths():
            for artist in self.moving:
                self.fig.draw_artist(artist)
        return png_from_pixels(np.asarray(self.canvas.buffer_rgba()), self.fig.dpi)  # (height, width, 4)


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
        self.labels = [outline_text(ax, i, 0.0, "", ha="center", fontsize="small") for i in positions]
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
