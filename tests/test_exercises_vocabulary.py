"""losslab.exercises.vocabulary: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, ...) is tested once for all
of them in test_exercises_all.py.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.vocabulary import check_chunk_gradient, check_chunked_logsumexp, check_merge, check_perplexity
from losslab.vocabulary import online_logsumexp

# --- Exercise 1: perplexity ------------------------------------------------------------------


def perplexity(logits, target, ignore_index):
    return torch.exp(F.cross_entropy(logits, target, ignore_index=ignore_index))


def perplexity_by_hand(logits, target, ignore_index):
    kept = target != ignore_index
    log_probs = torch.log_softmax(logits[kept], dim=1)
    return torch.exp(-log_probs[torch.arange(int(kept.sum())), target[kept]].mean())


def with_padding(logits, target, ignore_index):
    losses = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction="none")
    return torch.exp(losses.sum() / len(target))


@pytest.mark.parametrize("answer", [perplexity, perplexity_by_hand])
def test_perplexity_accepts_right_answers(answer, capsys):
    assert_accepts(check_perplexity, answer, capsys, "uniform model over V classes has perplexity V")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (with_padding, "padding included"),
        (lambda logits, target, i: F.cross_entropy(logits, target, ignore_index=i), "the perplexity is exp of it"),
        (lambda logits, target, i: 2 ** F.cross_entropy(logits, target, ignore_index=i), "nats"),
        (
            lambda logits, target, i: torch.exp(F.cross_entropy(logits, target, ignore_index=i, reduction="sum")),
            "exp of the sum",
        ),
        (
            lambda logits, target, i: F.cross_entropy(logits, target, ignore_index=i, reduction="none").exp(),
            "return one number",
        ),
    ],
)
def test_perplexity_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_perplexity, answer, expected, capsys)


# --- Exercise 2: chunked log-sum-exp -------------------------------------------------------------


def chunked_logsumexp(logits, chunk_size):
    running_max = torch.full((logits.shape[0],), -math.inf, dtype=logits.dtype)
    running_sum = torch.zeros(logits.shape[0], dtype=logits.dtype)
    for start in range(0, logits.shape[1], chunk_size):
        chunk = logits[:, start : start + chunk_size]
        new_max = torch.maximum(running_max, chunk.amax(dim=1))
        running_sum = running_sum * torch.exp(running_max - new_max) + torch.exp(chunk - new_max[:, None]).sum(dim=1)
        running_max = new_max
    return running_max + running_sum.log()


def without_max(logits, chunk_size):
    total = torch.zeros(logits.shape[0], dtype=logits.dtype)
    for start in range(0, logits.shape[1], chunk_size):
        total = total + logits[:, start : start + chunk_size].exp().sum(dim=1)
    return total.log()


def not_rescaled(logits, chunk_size):
    running_max = torch.full((logits.shape[0],), -math.inf, dtype=logits.dtype)
    running_sum = torch.zeros(logits.shape[0], dtype=logits.dtype)
    for start in range(0, logits.shape[1], chunk_size):
        chunk = logits[:, start : start + chunk_size]
        new_max = torch.maximum(running_max, chunk.amax(dim=1))
        running_sum = running_sum + torch.exp(chunk - new_max[:, None]).sum(dim=1)  # the old sum not rescaled
        running_max = new_max
    return running_max + running_sum.log()


def last_chunk_only(logits, chunk_size):
    result = None
    for start in range(0, logits.shape[1], chunk_size):
        result = torch.logsumexp(logits[:, start : start + chunk_size], dim=1)
    return result


@pytest.mark.parametrize("answer", [chunked_logsumexp, online_logsumexp])
def test_chunked_logsumexp_accepts_right_answers(answer, capsys):
    assert_accepts(check_chunked_logsumexp, answer, capsys, "equals torch.logsumexp")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (without_max, "exp() overflowed"),
        (not_rescaled, "multiply the running sum by exp(m - m')"),
        (last_chunk_only, "the last chunk's log-sum-exp only"),
        (lambda logits, chunk_size: logits.amax(dim=1), "you return the running maximum m"),
        (lambda logits, chunk_size: torch.logsumexp(logits, dim=1, keepdim=True), "shape (N,)"),
    ],
)
def test_chunked_logsumexp_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_chunked_logsumexp, answer, expected, capsys)


# --- Exercise 3: a chunk's gradient ---------------------------------------------------------------


def chunk_gradient(chunk, start, lse, target):
    probs = torch.exp(chunk - lse[:, None])
    one_hot = (target[:, None] == torch.arange(start, start + chunk.shape[1])).to(chunk.dtype)
    return (probs - one_hot) / chunk.shape[0]


def chunk_gradient_scatter(chunk, start, lse, target):
    grad = torch.exp(chunk - lse[:, None])
    inside = (target >= start) & (target < start + chunk.shape[1])
    rows = inside.nonzero().squeeze(1)
    grad[rows, target[rows] - start] -= 1
    return grad / len(target)


def one_hot_not_shifted(chunk, start, lse, target):
    one_hot = F.one_hot(target, 10)[:, : chunk.shape[1]].to(chunk.dtype)
    return (torch.exp(chunk - lse[:, None]) - one_hot) / chunk.shape[0]


@pytest.mark.parametrize("answer", [chunk_gradient, chunk_gradient_scatter])
def test_chunk_gradient_accepts_right_answers(answer, capsys):
    assert_accepts(check_chunk_gradient, answer, capsys, "(p - e_y) / N")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda chunk, start, lse, target: chunk_gradient(chunk, start, lse, target) * len(target), "1 / N"),
        (
            lambda chunk, start, lse, target: chunk_gradient(chunk, start, torch.logsumexp(chunk, dim=1), target),
            "normalises over the chunk only",
        ),
        (lambda chunk, start, lse, target: torch.exp(chunk - lse[:, None]) / len(target), "target's -1 is missing"),
        (one_hot_not_shifted, "target - start within the chunk"),
        (lambda chunk, start, lse, target: chunk_gradient(chunk, start, lse, target).T, "returned shape"),
    ],
)
def test_chunk_gradient_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_chunk_gradient, answer, expected, capsys)


# --- Exercise 4: merge ------------------------------------------------------------------------------


def merge(max_a, sum_a, max_b, sum_b):
    top = torch.maximum(max_a, max_b)
    return top + torch.log(sum_a * torch.exp(max_a - top) + sum_b * torch.exp(max_b - top))


def merge_through_logaddexp(max_a, sum_a, max_b, sum_b):
    return torch.logaddexp(max_a + sum_a.log(), max_b + sum_b.log())


@pytest.mark.parametrize("answer", [merge, merge_through_logaddexp])
def test_merge_accepts_right_answers(answer, capsys):
    assert_accepts(check_merge, answer, capsys, "two halves of the vocabulary")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda ma, sa, mb, sb: torch.maximum(ma, mb) + torch.log(sa + sb), "added the two sums as they are"),
        (lambda ma, sa, mb, sb: torch.logaddexp(ma, mb), "merged the maxima only"),
        (lambda ma, sa, mb, sb: ma + sa.log() + mb + sb.log(), "log-sum-exps do not add"),
        (lambda ma, sa, mb, sb: torch.log(sa * torch.exp(ma) + sb * torch.exp(mb)), "overflowed"),
        (lambda ma, sa, mb, sb: torch.stack([ma, sa]), "shape (N,)"),
        (
            lambda ma, sa, mb, sb: torch.maximum(ma, mb) + torch.log(sa * torch.exp(ma - torch.maximum(ma, mb)) + sb),
            "return m + log(sum_a exp(max_a - m) + sum_b exp(max_b - m))",
        ),
    ],
)
def test_merge_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_merge, answer, expected, capsys)
