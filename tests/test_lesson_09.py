"""Notebook 09 (cross-entropy at vocabulary scale): the facts its prose states, swept here rather than checked
cell by cell in the lesson.

- section 1: the curriculum's logits take 33.6 GB and naive cross-entropy keeps three tensors of their size
  (counted here from what autograd really saves);
- section 2: a uniform model has perplexity V;
- sections 3 and 4: the online log-sum-exp equals torch.logsumexp for every chunking, and the running sum
  without the maximum overflows where it does not;
- section 5: the chunked loss saves the logits it was given and two numbers per row, whatever the options;
- sections 6 and 7: losslab makes the logits twice (4 matrix products), naive and torch's chunked path once
  (3; naive counted by torch's FLOP counter); torch's rule for its rows per chunk is the notebook's formula;
- section 8: the explorer's "things to try".
"""

import math
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions
from torch.utils.flop_counter import FlopCounterMode

from losslab import vocabulary
from losslab.vocabulary import chunked_cross_entropy, linear_cross_entropy, logits_bytes, online_logsumexp
from losslab.widgets.vocabulary import N_TOKENS, VocabularyExplorer, memory_numbers

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "09_cross_entropy_at_vocabulary_scale.ipynb"


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def markdown(nb):
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def test_the_curriculums_logits_take_33_6_gigabytes_and_naive_keeps_three_of_them(nb):
    assert logits_bytes(8 * 4096, 256_000) == 8 * 4096 * 256_000 * 4
    assert round(3 * logits_bytes(8 * 4096, 256_000) / 1e9, 1) == 100.7 > 80
    assert "`33.6` GB" in markdown(nb) and "`100.7` GB" in markdown(nb)


def test_naive_cross_entropy_saves_a_tensor_of_the_logits_size():
    hidden = torch.randn(16, 8, requires_grad=True)
    weight = torch.randn(100, 8, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(tuple(t.shape)) or t, lambda t: t):
        loss = F.cross_entropy(hidden @ weight.T, torch.randint(0, 100, (16,)))
    assert (16, 100) in saved  # log_softmax's output, kept for the backward pass
    assert loss.grad_fn is not None


@pytest.mark.parametrize("vocab", [10, 1000, 32_000])
def test_a_uniform_model_has_perplexity_v(vocab):
    loss = F.cross_entropy(torch.zeros(5, vocab, dtype=torch.float64), torch.arange(5))
    assert loss.exp().item() == pytest.approx(vocab, rel=1e-12)


@pytest.mark.parametrize("chunk_size", [1, 7, 128, 999, 1000, 5000])
def test_the_online_logsumexp_is_exact_for_every_chunking(chunk_size):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(12, 1000, generator=generator, dtype=torch.float64) * 800
    torch.testing.assert_close(online_logsumexp(logits, chunk_size), torch.logsumexp(logits, dim=1))


def test_a_running_sum_without_the_maximum_overflows_above_709_8():
    assert math.isinf(torch.tensor(710.0, dtype=torch.float64).exp().item())
    assert math.isfinite(torch.tensor(709.7, dtype=torch.float64).exp().item())
    row = torch.tensor([[700.0, 710.0, 2500.0]], dtype=torch.float64)
    assert math.isinf(row.exp().sum().log().item())
    assert online_logsumexp(row, 1).item() == pytest.approx(2500.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_the_chunked_loss_saves_two_numbers_per_row(reduction, label_smoothing):
    logits = torch.randn(6, 40, dtype=torch.float64, requires_grad=True)
    loss = chunked_cross_entropy(
        logits, torch.arange(6), weight=torch.rand(40, dtype=torch.float64), reduction=reduction,
        label_smoothing=label_smoothing, chunk_size=9,
    )  # fmt: skip
    saved = loss.grad_fn.saved_tensors
    assert saved[0].data_ptr() == logits.data_ptr()
    assert [tuple(t.shape) for t in saved[1:]] == [(6,), (6,)]


def matmul_flops(loss_of, n, d, v):
    hidden = torch.randn(n, d, requires_grad=True)
    weight = torch.randn(v, d, requires_grad=True)
    target = torch.randint(0, v, (n,))
    with FlopCounterMode(display=False) as counter:
        loss_of(hidden, weight, target).backward()
    return counter.get_total_flops()


def test_naive_makes_three_matrix_products():
    n, d, v = 64, 16, 1000
    assert matmul_flops(lambda h, w, t: F.cross_entropy(h @ w.T, t), n, d, v) == 3 * 2 * n * d * v


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_losslab_makes_every_chunk_of_logits_twice(monkeypatch, reduction):
    made = []
    original = vocabulary._logits_chunk

    def counted(hidden, linear_weight, linear_bias, start, stop):
        made.append((start, stop))
        return original(hidden, linear_weight, linear_bias, start, stop)

    monkeypatch.setattr(vocabulary, "_logits_chunk", counted)
    hidden = torch.randn(8, 4, requires_grad=True)
    weight = torch.randn(1000, 4, requires_grad=True)
    loss = linear_cross_entropy(hidden, weight, torch.arange(8), reduction=reduction, chunk_size=128)
    loss.sum().backward()
    bounds = vocabulary.chunk_bounds(1000, 128)
    assert made == bounds + bounds  # once for m and log s, once for the gradients (forward or backward)


@pytest.mark.parametrize(("n", "d", "v"), [(2048, 512, 32_000), (256, 64, 8000), (4096, 4096, 256_000)])
def test_torchs_rows_per_chunk_follow_the_notebooks_formula(n, d, v):
    rows = 1 << (math.ceil(n / math.ceil(v / d)) - 1).bit_length()
    adjusted = LinearCrossEntropyOptions()._adjust(n, d, v, torch.float32, torch.device("cpu"))
    assert adjusted.batch_chunk_size == max(1, min(rows // 2, n))
    assert adjusted.chunking_method == "aspect_ratio:2"


def test_things_to_try():
    # 1. At V = 256k one chunk is about 1 GB with 8192 classes.
    assert round(memory_numbers(256_000, 8192)["chunk"] / 1e9, 1) == 1.1
    # 2. From 256k to 32k the logits shrink eight-fold, the chunk stays.
    assert memory_numbers(256_000, 4096)["full"] == 8 * memory_numbers(32_000, 4096)["full"]
    # 3. Per class the logits take N floats, the gradients of W only d: the logits grow 8 times faster.
    grow_logits = memory_numbers(256_000, 4096)["full"] - memory_numbers(248_000, 4096)["full"]
    grow_gradients = memory_numbers(256_000, 4096)["gradients"] - memory_numbers(248_000, 4096)["gradients"]
    assert grow_logits == 8 * grow_gradients == 8000 * N_TOKENS * 4


def test_the_explorer_starts_at_the_numbers_of_section_1():
    text = VocabularyExplorer().readout.value
    assert "full logits = 33.6 GB" in text
