"""losslab.figures.vocabulary: the memory of the logits against the vocabulary, and the online log-sum-exp."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from losslab.figures import FIGURES
from losslab.figures.vocabulary import N_TOKENS, VOCAB_SIZES, running_logsumexp, vocabulary_memory


@pytest.fixture
def figure():
    fig = vocabulary_memory()
    yield fig
    plt.close(fig)


def test_is_registered_under_its_file_name():
    assert FIGURES["09_vocabulary_memory.png"] is vocabulary_memory


def test_left_panel_draws_the_bytes_of_the_logits(figure):
    memory_ax = figure.axes[0]
    logits_line = memory_ax.get_lines()[0]
    vocab, gigabytes = logits_line.get_xdata(), logits_line.get_ydata()
    np.testing.assert_allclose(gigabytes, N_TOKENS * vocab * 4 / 1e9, rtol=1e-12)
    marked = [line for line in memory_ax.get_lines() if line.get_marker() == "o"]
    assert [line.get_xdata()[0] for line in marked] == list(VOCAB_SIZES)
    labels = [text.get_text() for text in memory_ax.texts]
    assert labels[-1] == "33.6 GB" and labels[0] == "4.2 GB"


def test_right_panel_reaches_torch_logsumexp(figure):
    online_ax = figure.axes[1]
    curve, reference = online_ax.get_lines()
    values = curve.get_ydata()
    assert values[-1] == pytest.approx(reference.get_ydata()[0], rel=1e-12)
    assert (np.diff(values) >= 0).all()  # every chunk adds to the sum


def test_running_logsumexp_ends_at_torch_logsumexp_for_any_chunking():
    row = torch.linspace(-5, 30, 97, dtype=torch.float64)
    for chunk_size in (1, 10, 97, 200):
        values = running_logsumexp(row, chunk_size)
        assert len(values) == -(-97 // chunk_size)
        assert values[-1] == pytest.approx(torch.logsumexp(row, dim=0).item(), rel=1e-12)
