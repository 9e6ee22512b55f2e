"""Notebook 09's vocabulary explorer: the vocabulary size V and the chunk size -> the memory of the full
logits, of naive cross-entropy's tensors, of one chunk and of what the fused loss keeps for its backward
pass, for a fixed batch of N = 8 x 4096 tokens with hidden states of size d = 4096, in float32."""

import math

import ipywidgets as widgets

from ..plots import figure, outline_text
from ..vocabulary import format_bytes, kept_for_backward_bytes, logits_bytes
from .toolkit import SLIDER_LAYOUT, SLIDER_STYLE, Explorer, NoEchoIntSlider

N_TOKENS = 8 * 4096  # the curriculum's batch: 8 sequences of 4096 tokens
HIDDEN_SIZE = 4096
VOCAB_RANGE_K = (8, 256)  # thousands of classes
CHUNK_RANGE = (256, 65536)  # classes per chunk, in steps of 256
BYTES_RANGE = (1e5, 1e12)  # the chart's axis: 100 kB to 1 TB
BAR_NAMES = (
    "full logits (N, V)",
    "naive: logits, log-softmax, gradient",
    "one chunk (N, chunk)",
    "kept for backward: 2 numbers per row",
    "kept for backward: gradients of h and W",
)


def memory_numbers(vocab_size, chunk_size, n_tokens=N_TOKENS, hidden_size=HIDDEN_SIZE):
    """The bytes each bar shows, in BAR_NAMES' order, and the number of chunks (float32 throughout)."""
    full = logits_bytes(n_tokens, vocab_size)
    chunk = logits_bytes(n_tokens, min(chunk_size, vocab_size))
    return {
        "full": full,
        "naive": 3 * full,  # the logits, log_softmax's output (saved for backward) and the logits' gradient
        "chunk": chunk,
        "rows": kept_for_backward_bytes(n_tokens, hidden_size, vocab_size, precomputed=False),
        "gradients": kept_for_backward_bytes(n_tokens, hidden_size, vocab_size, precomputed=True),
        "chunks": math.ceil(vocab_size / chunk_size),
    }


class VocabularyExplorer(Explorer):
    """A vocabulary-size slider (thousands of classes) and a chunk-size slider; bars of the memory each tensor
    takes (log scale), and a readout of the full logits, one chunk and what is kept for the backward pass."""

    description = "vocabulary and chunk sliders with the memory of the logits, of a chunk and of what is kept"

    def __init__(self, vocab_k=256, chunk_size=4096, *, recreate_figure=False):
        self.vocab = NoEchoIntSlider(
            value=vocab_k,
            min=VOCAB_RANGE_K[0],
            max=VOCAB_RANGE_K[1],
            step=8,
            description="vocabulary V (k)",
            style=SLIDER_STYLE,
            layout=SLIDER_LAYOUT,
        )
        self.vocab.add_class("losslab-vocab")
        self.chunk = NoEchoIntSlider(
            value=chunk_size,
            min=CHUNK_RANGE[0],
            max=CHUNK_RANGE[1],
            step=CHUNK_RANGE[0],
            description="chunk (classes)",
            style=SLIDER_STYLE,
            layout=SLIDER_LAYOUT,
        )
        self.chunk.add_class("losslab-chunk")
        super().__init__([self.vocab, self.chunk], recreate_figure=recreate_figure)

    def _layout(self, controls):
        return widgets.VBox([widgets.VBox(controls), self.image, self.readout.widget])

    def _make_chart(self):
        fig = figure(figsize=(6.6, 2.5), dpi=85)
        ax = fig.add_subplot()
        positions = list(range(len(BAR_NAMES)))[::-1]
        colors = ["C3", "C3", "C0", "C2", "C2"]
        self.bars = ax.barh(positions, [1.0] * len(BAR_NAMES), left=BYTES_RANGE[0], color=colors, height=0.6)
        # OutlineText: cached glyph outlines redraw in a quarter of Text's time (5 labels change on every move)
        self.labels = [outline_text(ax, BYTES_RANGE[0], y, "", va="center", fontsize="small") for y in positions]
        ax.set_yticks(positions, BAR_NAMES, fontsize="small")
        ax.set_xscale("log")
        ax.set_xlim(*BYTES_RANGE)
        ax.axvline(80e9, color="0.4", linestyle=":", linewidth=1)
        ax.text(80e9, len(BAR_NAMES) - 0.45, "one 80 GB GPU ", fontsize="x-small", color="0.3", va="top", ha="right")
        ax.set_xlabel(f"bytes (log scale), N = {N_TOKENS} tokens, d = {HIDDEN_SIZE}, float32")
        ax.spines[["top", "right"]].set_visible(False)
        fig.subplots_adjust(left=0.42, right=0.97, bottom=0.2, top=0.95)
        return fig, [*self.bars, *self.labels]

    def compute(self):
        self.vocab_size = int(self.vocab.value) * 1000
        self.chunk_size = int(self.chunk.value)
        self.numbers = memory_numbers(self.vocab_size, self.chunk_size)

    def draw(self):
        keys = ("full", "naive", "chunk", "rows", "gradients")
        for bar, label, key in zip(self.bars, self.labels, keys, strict=True):
            n_bytes = self.numbers[key]
            bar.set_width(max(n_bytes - BYTES_RANGE[0], 0.0))
            label.set_x(max(n_bytes, BYTES_RANGE[0]) * 1.15)
            label.set_text(format_bytes(n_bytes))

    def readout_parts(self):
        return vocabulary_parts(self.vocab_size, self.chunk_size, self.numbers)


def vocabulary_parts(vocab_size, chunk_size, numbers):
    """['V = 256000', 'full logits = 33.6 GB', ...]: the readout's parts."""
    return [
        f"V = {vocab_size}",
        f"full logits = {format_bytes(numbers['full'])}",
        f"one chunk = {format_bytes(numbers['chunk'])} ({numbers['chunks']} chunk{'s' if numbers['chunks'] > 1 else ''})",
        f"kept for backward = {format_bytes(numbers['rows'])} (recomputing) or "
        f"{format_bytes(numbers['gradients'])} (the gradients, precomputed)",
    ]
