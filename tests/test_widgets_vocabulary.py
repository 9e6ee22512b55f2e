"""losslab.widgets.vocabulary: the vocabulary explorer of notebook 09, driven from Python.

Its controls, the memory it computes (from the shapes, checked against tensors' own sizes) and shows,
and its extremes. What every explorer does alike is tested once for all of them in test_widgets_all.py.
"""

import math

import pytest
import torch

from losslab.vocabulary import format_bytes
from losslab.widgets.vocabulary import (
    BAR_NAMES,
    CHUNK_RANGE,
    HIDDEN_SIZE,
    N_TOKENS,
    VOCAB_RANGE_K,
    VocabularyExplorer,
    memory_numbers,
    vocabulary_parts,
)


def test_controls_have_labels_ranges_and_css_classes():
    explorer = VocabularyExplorer()
    vocab, chunk = explorer.vocab, explorer.chunk
    assert vocab.description == "vocabulary V (k)"
    assert (vocab.min, vocab.max, vocab.step, vocab.value) == (*VOCAB_RANGE_K, 8, 256)
    assert "losslab-vocab" in vocab._dom_classes
    assert chunk.description == "chunk (classes)"
    assert (chunk.min, chunk.max, chunk.step, chunk.value) == (*CHUNK_RANGE, 256, 4096)
    assert CHUNK_RANGE == (256, 65536)
    assert "losslab-chunk" in chunk._dom_classes


def test_initial_readout_is_the_curriculums_example():
    explorer = VocabularyExplorer()
    text = explorer.readout.value
    assert "V = 256000" in text and "full logits = 33.6 GB" in text
    assert "one chunk = 536.9 MB (63 chunks)" in text
    assert "262.1 kB (recomputing)" in text and "4.7 GB (the gradients, precomputed)" in text


@pytest.mark.parametrize(
    ("vocab_k", "chunk_size"), [(8, 256), (32, 4096), (128, 65536), (256, 1024), (200, 8192), (256, 5120)]
)
def test_the_numbers_are_the_bytes_of_tensors_of_those_shapes(vocab_k, chunk_size):
    explorer = VocabularyExplorer()
    explorer.vocab.value, explorer.chunk.value = vocab_k, chunk_size
    vocab = vocab_k * 1000
    numbers = explorer.numbers
    element = torch.empty((), dtype=torch.float32).element_size()
    assert numbers["full"] == N_TOKENS * vocab * element
    assert numbers["naive"] == 3 * numbers["full"]
    assert numbers["chunk"] == N_TOKENS * min(chunk_size, vocab) * element
    assert numbers["rows"] == 2 * N_TOKENS * element
    assert numbers["gradients"] == (N_TOKENS + vocab) * HIDDEN_SIZE * element
    assert numbers["chunks"] == math.ceil(vocab / chunk_size)
    widths = [bar.get_width() + bar.get_x() for bar in explorer.bars]
    keys = ("full", "naive", "chunk", "rows", "gradients")
    assert widths == pytest.approx([numbers[key] for key in keys])
    assert [label.get_text() for label in explorer.labels] == [format_bytes(numbers[key]) for key in keys]


def test_a_chunk_larger_than_the_vocabulary_is_the_whole_vocabulary():
    numbers = memory_numbers(8000, 65536)
    assert numbers["chunk"] == numbers["full"] and numbers["chunks"] == 1
    assert "(1 chunk)" in vocabulary_parts(8000, 65536, numbers)[2]


def test_the_chunk_does_not_change_with_the_vocabulary_but_the_logits_do():
    small, large = memory_numbers(32_000, 4096), memory_numbers(256_000, 4096)
    assert small["chunk"] == large["chunk"]
    assert large["full"] == 8 * small["full"]


def test_bars_are_labelled_and_axes_fixed():
    explorer = VocabularyExplorer()
    ax = explorer.figure.axes[0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == list(BAR_NAMES)
    limits = ax.get_xlim()
    explorer.vocab.value, explorer.chunk.value = 8, 256
    assert ax.get_xlim() == limits and ax.get_xscale() == "log"


def test_out_of_range_values_are_clamped():
    explorer = VocabularyExplorer()
    explorer.chunk.value = 10**6
    assert explorer.chunk.value == CHUNK_RANGE[1]
    explorer.vocab.value = 10_000
    assert explorer.vocab.value == VOCAB_RANGE_K[1]
    explorer.vocab.value = -5
    assert explorer.vocab.value == VOCAB_RANGE_K[0] and explorer.vocab_size == 8000
