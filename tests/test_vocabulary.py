"""losslab.vocabulary: the online log-sum-exp, the chunked cross-entropy and the fused linear cross-entropy
against PyTorch.

Property tests in float64 (2,000 examples each, the default profile): values and gradients of
`chunked_cross_entropy` against F.cross_entropy (logits up to |z| = 1e30), and of `linear_cross_entropy`
against F.linear_cross_entropy and against F.cross_entropy(hidden @ weight.T + bias), with respect to the
hidden states, the weight and the bias; every reduction, ignore_index, class weights, label smoothing, and
chunk sizes from 1 class to more than the vocabulary. Then the errors, and what the forward pass keeps.
"""

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from losslab.vocabulary import (
    ChunkedCrossEntropy,
    LinearCrossEntropy,
    chunk_bounds,
    chunked_cross_entropy,
    format_bytes,
    kept_for_backward_bytes,
    linear_cross_entropy,
    logits_bytes,
    online_logsumexp,
    online_update,
)
from strategies import ATOL, RTOL, assert_raises_like_torch, check_against_torch, logits, reductions, tensors, weights

# ------------------------------------------------------------------------------------ strategies

SMOOTHING = st.one_of(st.sampled_from([0.0, 0.0, 0.1, 1.0]), st.floats(0.0, 1.0))


@st.composite
def index_targets(draw, n, n_classes):
    """(target (n,) int64, ignore_index): classes, some of them replaced by the ignore_index."""
    ignore_index = draw(st.one_of(st.just(-100), st.integers(0, n_classes - 1)))
    values = draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n))
    ignored = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    target = [ignore_index if skip else value for value, skip in zip(values, ignored, strict=True)]
    return torch.tensor(target, dtype=torch.int64).reshape(n), ignore_index


@st.composite
def chunked_calls(draw):
    n, n_classes = draw(st.integers(0, 4)), draw(st.integers(1, 7))
    target, ignore_index = draw(index_targets(n, n_classes))
    kwargs = {
        "input": draw(logits((n, n_classes))),
        "target": target,
        "reduction": draw(reductions()),
        "label_smoothing": draw(SMOOTHING),
    }
    if draw(st.booleans()):
        kwargs["ignore_index"] = ignore_index
    if draw(st.booleans()):
        kwargs["weight"] = draw(weights((n_classes,)))
    return kwargs, draw(st.integers(1, n_classes + 1))


# Hidden states and weights of moderate size: logits up to about 4 x 30 x 30 = 3600, far beyond float32's
# exp() overflow, while the dot products stay exact enough that any order of summation agrees to 1e-9.
HIDDEN_SCALES = (1.0, 3.0, 30.0)


@st.composite
def linear_calls(draw):
    n, n_classes, d = draw(st.integers(0, 4)), draw(st.integers(1, 7)), draw(st.integers(1, 4))
    scale = draw(st.sampled_from(HIDDEN_SCALES))
    values = st.floats(-scale, scale)
    unbatched = draw(st.integers(0, 9)) == 0
    target, ignore_index = draw(index_targets(1 if unbatched else n, n_classes))
    kwargs = {
        "input": draw(tensors((d,) if unbatched else (n, d), values)),
        "linear_weight": draw(tensors((n_classes, d), values)),
        "target": target.reshape(()) if unbatched else target,
        "reduction": draw(reductions()),
        "label_smoothing": draw(SMOOTHING),
    }
    if draw(st.booleans()):
        kwargs["linear_bias"] = draw(tensors((n_classes,), values))
    if draw(st.booleans()):
        kwargs["ignore_index"] = ignore_index
    if draw(st.booleans()):
        kwargs["weight"] = draw(weights((n_classes,)))
    return kwargs, draw(st.integers(1, n_classes + 1))


def torch_logits_then_cross_entropy(input, linear_weight, target, linear_bias=None, ignore_index=-100, **kwargs):
    logits = input @ linear_weight.T
    if linear_bias is not None:
        logits = logits + linear_bias
    return F.cross_entropy(logits, target, ignore_index=ignore_index, **kwargs)


# ------------------------------------------------------------------------------- property tests


@settings(max_examples=300)  # a plain function of the logits: the losses below exercise it 2,000 times more
@given(st.data())
def test_online_logsumexp_equals_torch_logsumexp(data):
    n_rows, n_classes = data.draw(st.integers(0, 4)), data.draw(st.integers(1, 9))
    batch = data.draw(logits((n_rows, n_classes), special=True))
    chunk_size = data.draw(st.integers(1, n_classes + 1))
    torch.testing.assert_close(
        online_logsumexp(batch, chunk_size), torch.logsumexp(batch, dim=-1), rtol=RTOL, atol=ATOL, equal_nan=True
    )


@given(chunked_calls())
def test_chunked_cross_entropy_matches_torch(call):
    kwargs, chunk_size = call
    check_against_torch(
        F.cross_entropy, functools.partial(chunked_cross_entropy, chunk_size=chunk_size), kwargs, wrt=("input",)
    )


@given(linear_calls())
def test_linear_cross_entropy_matches_torch_linear_cross_entropy(call):
    kwargs, chunk_size = call
    check_against_torch(
        F.linear_cross_entropy,
        functools.partial(linear_cross_entropy, chunk_size=chunk_size),
        kwargs,
        wrt=("input", "linear_weight", "linear_bias"),
    )


@settings(max_examples=300)  # the same calls as above against a second reference (2,000 there)
@given(linear_calls())
def test_linear_cross_entropy_matches_cross_entropy_of_the_full_logits(call):
    kwargs, chunk_size = call
    kwargs.setdefault("ignore_index", -100)
    check_against_torch(
        torch_logits_then_cross_entropy,
        functools.partial(linear_cross_entropy, chunk_size=chunk_size),
        kwargs,
        wrt=("input", "linear_weight", "linear_bias"),
    )


# ------------------------------------------------------------------------------ fixed examples


def test_online_update_rescales_the_running_sum():
    running_max, running_sum = torch.tensor([-math.inf], dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    for chunk in ([1.0, 3.0], [5.0], [2.0, 0.0]):
        running_max, running_sum = online_update(running_max, running_sum, torch.tensor([chunk], dtype=torch.float64))
    expected = sum(math.exp(z - 5.0) for z in (1.0, 3.0, 5.0, 2.0, 0.0))
    assert running_max.item() == 5.0 and running_sum.item() == pytest.approx(expected, rel=1e-15)


def test_online_logsumexp_of_rows_of_minus_infinity_and_huge_logits():
    rows = torch.tensor([[-math.inf, -math.inf, -math.inf], [1e30, 1e30, -1e30], [math.inf, 0.0, 1.0]])
    torch.testing.assert_close(online_logsumexp(rows, 1), torch.logsumexp(rows, dim=-1))
    assert online_logsumexp(torch.empty(2, 0)).tolist() == [-math.inf, -math.inf]


def test_chunk_bounds_cover_every_class_once():
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(3, 5) == [(0, 3)]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_the_fused_loss_agrees_in_float32_at_a_larger_size(reduction):
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(64, 32, generator=generator, requires_grad=True)
    weight = (torch.randn(1000, 32, generator=generator) / 32**0.5).requires_grad_(True)
    target = torch.randint(0, 1000, (64,), generator=generator)
    grad_output = torch.rand((64,) if reduction == "none" else (), generator=generator)
    reference = F.linear_cross_entropy(hidden, weight, target, reduction=reduction)
    expected = torch.autograd.grad(reference, [hidden, weight], grad_output)
    ours = linear_cross_entropy(hidden, weight, target, reduction=reduction, chunk_size=96)
    found = torch.autograd.grad(ours, [hidden, weight], grad_output)
    torch.testing.assert_close(ours, reference)
    for mine, theirs in zip(found, expected, strict=True):
        torch.testing.assert_close(mine, theirs)


def test_a_second_backward_pass_recomputes_the_same_gradients():
    generator = torch.Generator().manual_seed(1)
    hidden = torch.randn(5, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(11, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 11, (5,), generator=generator)
    loss = linear_cross_entropy(hidden, weight, target, chunk_size=4, label_smoothing=0.2)
    first = torch.autograd.grad(loss, [hidden, weight], retain_graph=True)
    second = torch.autograd.grad(loss, [hidden, weight], torch.tensor(2.0, dtype=torch.float64))
    for once, twice in zip(first, second, strict=True):
        torch.testing.assert_close(twice, 2 * once, rtol=1e-12, atol=1e-15)


def test_the_chunked_forward_keeps_no_probabilities():
    """What ChunkedCrossEntropy saves for backward: the logits it was given and two numbers per row."""
    logits_in = torch.randn(6, 50, dtype=torch.float64, requires_grad=True)
    loss = chunked_cross_entropy(logits_in, torch.arange(6), chunk_size=7)
    saved = loss.grad_fn.saved_tensors
    assert saved[0] is not None and saved[0].data_ptr() == logits_in.data_ptr()
    assert [tuple(t.shape) for t in saved[1:]] == [(6,), (6,)]
    assert isinstance(loss.grad_fn, ChunkedCrossEntropy._backward_cls)


def test_the_fused_forward_keeps_gradients_of_the_size_of_hidden_and_weight():
    hidden = torch.randn(6, 4, requires_grad=True)
    weight = torch.randn(50, 4, requires_grad=True)
    loss = linear_cross_entropy(hidden, weight, torch.arange(6), chunk_size=8)
    assert isinstance(loss.grad_fn, LinearCrossEntropy._backward_cls)
    kept = [tuple(g.shape) for g in loss.grad_fn.precomputed if g is not None]
    assert kept == [(6, 4), (50, 4)]
    saved = [tuple(t.shape) for t in loss.grad_fn.saved_tensors if t is not None]
    assert max(math.prod(shape) for shape in saved) == 50 * 4  # nothing of the logits' (6, 50) size


# ------------------------------------------------------------------------------------- errors


def _linear_call(**changes):
    kwargs = {
        "input": torch.randn(3, 4),
        "linear_weight": torch.randn(5, 4),
        "target": torch.tensor([0, 4, 2]),
    }
    kwargs.update(changes)
    return lambda fn: fn(**kwargs)


@pytest.mark.parametrize(
    ("call", "error", "problem"),
    [
        (_linear_call(input=torch.randn(2, 3, 4)), RuntimeError, "dimensionality 1 or 2"),
        (_linear_call(linear_weight=torch.randn(5)), RuntimeError, "at least 2"),
        (_linear_call(linear_weight=torch.randn(5, 3)), RuntimeError, "in_features"),
        (_linear_call(linear_bias=torch.randn(4)), RuntimeError, "linear_bias shape"),
        (_linear_call(target=torch.tensor([0, 5, 2])), IndexError, "out of bounds"),
        (_linear_call(target=torch.tensor([0, 1])), ValueError, "batch_size"),
        (_linear_call(target=torch.tensor([0, 1, 2], dtype=torch.int32)), RuntimeError, "Long or Byte"),
        (_linear_call(reduction="average"), ValueError, "reduction"),
        (_linear_call(label_smoothing=1.5), RuntimeError, "between 0.0 and 1.0"),
        (_linear_call(weight=torch.ones(4)), RuntimeError, "all 5 classes"),
        (_linear_call(weight=torch.ones(5, dtype=torch.float64)), RuntimeError, "scalar type"),
        (_linear_call(linear_weight=torch.randn(5, 4, dtype=torch.float64)), RuntimeError, "dtype"),
        (_linear_call(target=torch.rand(3, 5), ignore_index=-100), RuntimeError, "probabilities"),
    ],
)
def test_linear_cross_entropy_rejects_what_torch_rejects(call, error, problem):
    assert_raises_like_torch(call, F.linear_cross_entropy, linear_cross_entropy, error, problem)


def test_a_class_weight_that_requires_grad_is_refused_as_by_torch():
    call = _linear_call(weight=torch.ones(5, requires_grad=True))
    assert_raises_like_torch(call, F.linear_cross_entropy, linear_cross_entropy, RuntimeError, "not differentiable")


@pytest.mark.parametrize(("chunk_size", "error"), [(0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_a_bad_chunk_size_is_refused(chunk_size, error):
    with pytest.raises(error, match="chunk_size"):
        linear_cross_entropy(torch.randn(2, 3), torch.randn(4, 3), torch.tensor([0, 1]), chunk_size=chunk_size)
    with pytest.raises(error, match="chunk_size"):
        online_logsumexp(torch.randn(2, 3), chunk_size)


def test_probability_targets_and_k_dimensional_weights_take_the_reference_path():
    hidden, weight = torch.randn(3, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    probs = torch.softmax(torch.randn(3, 5, dtype=torch.float64), dim=1)
    torch.testing.assert_close(
        linear_cross_entropy(hidden, weight, probs), F.linear_cross_entropy(hidden, weight, probs)
    )
    weight_k = torch.randn(5, 2, 4, dtype=torch.float64)
    target_k = torch.randint(0, 5, (3, 2))
    torch.testing.assert_close(
        linear_cross_entropy(hidden, weight_k, target_k), F.linear_cross_entropy(hidden, weight_k, target_k)
    )


# ---------------------------------------------------------------------------- memory arithmetic


def test_the_curriculums_logits_take_about_33_gigabytes():
    assert logits_bytes(8 * 4096, 256_000) == 33_554_432_000
    assert format_bytes(logits_bytes(8 * 4096, 256_000)) == "33.6 GB"
    assert logits_bytes(2048, 32_000, torch.float64) == 2 * logits_bytes(2048, 32_000)


def test_what_is_kept_for_backward():
    assert kept_for_backward_bytes(2048, 512, 32_000) == (2048 * 512 + 32_000 * 512) * 4
    assert kept_for_backward_bytes(2048, 512, 32_000, precomputed=False) == 2 * 2048 * 4


@pytest.mark.parametrize(
    ("n_bytes", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (262_144_000, "262.1 MB"), (10**12, "1000.0 GB")],
)
def test_format_bytes(n_bytes, text):
    assert format_bytes(n_bytes) == text
