"""losslab.cross_entropy and losslab.nll_loss against torch.nn.functional.

Property tests in float64 over every argument combination: values, gradients (w.r.t. the input,
and w.r.t. probability targets and their class weights), warnings, and errors.
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import losslab
from strategies import (
    ATOL,
    RTOL,
    assert_raises_like_torch,
    check_against_torch,
    logits,
    probabilities,
    reductions,
    weights,
)


def _index_error_for_bad_uint8(torch_fn):
    """torch with reduction='none' formats an out-of-bounds uint8 target as a character: 'Target \\x05 is out
    of bounds.', and for values >= 128 the message is not UTF-8, so Python raises UnicodeDecodeError
    instead of IndexError. A torch bug in the message, not a behaviour: compare it as the IndexError it is."""

    def call(**kwargs):
        try:
            return torch_fn(**kwargs)
        except UnicodeDecodeError as error:
            if b"out of bounds" not in error.object:
                raise
            raise IndexError(error.object.decode("latin-1")) from error

    return call


TORCH_CROSS_ENTROPY = _index_error_for_bad_uint8(F.cross_entropy)
TORCH_NLL_LOSS = _index_error_for_bad_uint8(F.nll_loss)

# ------------------------------------------------------------------------------------ strategies


@st.composite
def class_layouts(draw, kdim=True):
    """(input shape, class-index target shape): unbatched (C,) with a () or (1,) target, batched (N, C),
    or K-dimensional (N, C, d1, ..., dk) with k up to 3. Batches and spatial sides may be empty.
    Mostly C in 1..5; sometimes C = 0 (legal when every target is ignored) or C = 160 (> 156, where
    ignore_index=-100 wraps around for uint8 targets)."""
    special = draw(st.integers(0, 19))
    n_classes = {0: 0, 1: 160}.get(special) if special < 2 else draw(st.integers(1, 5))
    layouts = ["unbatched", "batched", "kdim"] if kdim and n_classes != 160 else ["unbatched", "batched"]
    layout = draw(st.sampled_from(layouts))
    if layout == "unbatched":
        return (n_classes,), draw(st.sampled_from([(), (1,)]))
    n = draw(st.integers(0, 2 if n_classes == 160 else 4))
    if layout == "batched":
        return (n, n_classes), (n,)
    spatial = tuple(draw(st.lists(st.integers(0, 3), min_size=1, max_size=3)))
    if n * n_classes * np.prod(spatial) > 144:
        spatial = tuple(min(side, 2) for side in spatial)
    return (n, n_classes, *spatial), (n, *spatial)


def ignore_indices(n_classes):
    """The default, negative values, values beyond uint8 (which wrap), and valid classes."""
    return st.one_of(st.sampled_from([-100, -100, -1, -99, 255, 261]), st.integers(0, max(n_classes - 1, 0)))


@st.composite
def index_targets(draw, shape, n_classes, ignore_index, dtype):
    """Class indices, some, none or all of them equal to ignore_index (as stored in `dtype`:
    for uint8, ignore_index modulo 256, which nll_loss keeps but label smoothing drops)."""
    stored = ignore_index % 256 if dtype == torch.uint8 else ignore_index
    mode = "all ignored" if n_classes == 0 else draw(st.sampled_from(["mixed", "mixed", "all ignored", "none ignored"]))
    classes = st.integers(0, max(n_classes - 1, 0))
    elements = {"mixed": st.one_of(classes, st.just(stored)), "all ignored": st.just(stored), "none ignored": classes}
    return torch.from_numpy(draw(hnp.arrays(np.int64, shape, elements=elements[mode]))).to(dtype)


def class_weights(n_classes, kdim):
    """No weight, or one per class; K-dim inputs also accept (1, C) and (C, 1) weights (torch only counts)."""
    shapes = [(n_classes,), (n_classes,)] + ([(1, n_classes), (n_classes, 1)] if kdim else [])
    return st.one_of(st.none(), st.sampled_from(shapes).flatmap(weights))


def label_smoothings():
    """0, 1, anything between, and negative (which torch ignores: no smoothing, no error)."""
    return st.one_of(st.sampled_from([0.0, 0.0, 1.0, -0.5]), st.floats(0, 1))


@st.composite
def index_target_calls(draw, smoothing=True):
    input_shape, target_shape = draw(class_layouts())
    n_classes = input_shape[0 if len(input_shape) == 1 else 1]
    kdim = len(input_shape) > 2
    ignore_index = draw(ignore_indices(n_classes))
    # uint8 targets are accepted for (C,) and (N, C) inputs only (torch's K-dim kernel wants int64).
    dtype = torch.int64 if kdim else draw(st.sampled_from([torch.int64, torch.int64, torch.uint8]))
    call = dict(
        input=draw(logits(input_shape)),
        target=draw(index_targets(target_shape, n_classes, ignore_index, dtype)),
        weight=draw(class_weights(n_classes, kdim)),
        ignore_index=ignore_index,
        reduction=draw(reductions()),
    )
    if smoothing:
        call["label_smoothing"] = draw(label_smoothings())
    return call


MIXED_DTYPES = [(torch.float64, torch.float32), (torch.float32, torch.float64), (torch.float32, torch.float32)]


@st.composite
def probability_target_calls(draw):
    """Targets of the input's shape: one-hot, normalised, or any values in [0, 1] (rows need not sum to 1)."""
    input_shape, _ = draw(class_layouts())
    n_classes = input_shape[0 if len(input_shape) == 1 else 1]
    kind = draw(st.sampled_from(["one-hot", "normalised", "free"]))
    target = draw(probabilities(input_shape))
    if kind != "free" and n_classes:
        class_dim = 0 if len(input_shape) == 1 else 1
        if kind == "one-hot":
            target = (target == target.amax(class_dim, keepdim=True)).double()
        target = target / target.sum(class_dim, keepdim=True).clamp(min=1e-3)
    # Mostly float64; sometimes a float32 target or input (the result is then float64 from float32 parts).
    input_dtype, target_dtype = draw(st.sampled_from([(torch.float64, torch.float64)] * 4 + MIXED_DTYPES))
    return dict(
        input=draw(logits(input_shape, dtype=input_dtype)),
        target=target.to(target_dtype),
        weight=draw(st.one_of(st.none(), weights((n_classes,)))),
        ignore_index=draw(st.sampled_from([-100, -1])),
        reduction=draw(reductions()),
        label_smoothing=draw(label_smoothings()),
    )


# ----------------------------------------------------------------------------- value properties


def _differentiable(call, wrt):
    """Which tensors to differentiate: all of wrt, except where torch's forward pass succeeds but its
    backward raises (torch bugs, not mirrored: losslab returns the gradient):
    - an unbatched (C,) input with a (1,) target: "size mismatch" unless C == 1
      (see test_unbatched_target_of_shape_1_has_a_gradient);
    - a K-dim input with a uint8 target: "expected scalar type Long" (torch's forward accepts one only
      when it is empty and the reduction is mean or sum, and losslab mirrors that; the gradient of an
      empty input is empty anyway)."""
    input, target = call["input"], call["target"]
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] == 1:
        return ()
    if input.dim() > 2 and target.dtype == torch.uint8:
        return ()
    return wrt


@given(call=index_target_calls())
def test_cross_entropy_class_indices_match_torch(call):
    """Every combination of shape, weight, ignore_index, reduction and label smoothing, with
    logits up to 1e30: same value and gradient w.r.t. the logits (rtol 1e-9, atol 1e-12)."""
    check_against_torch(TORCH_CROSS_ENTROPY, losslab.cross_entropy, call, wrt=_differentiable(call, ("input",)))


@given(call=probability_target_calls())
def test_cross_entropy_probability_targets_match_torch(call):
    """Probability targets with weights and smoothing: same value and gradients w.r.t. the logits,
    the target and the class weights (differentiable on this path only)."""
    check_against_torch(
        TORCH_CROSS_ENTROPY, losslab.cross_entropy, call, wrt=_differentiable(call, ("input", "target", "weight"))
    )


def _summation_tolerance(call):
    """nll_loss of arbitrary scores sums terms of both signs, so summation order matters: allow the rounding
    error of any order, rtol times the loss of the absolute values (which has no cancellation)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            magnitude = F.nll_loss(**{**call, "input": -call["input"].abs()}).abs().max()
    except (RuntimeError, ValueError, IndexError, NotImplementedError):
        return ATOL
    return ATOL + RTOL * float(magnitude.nan_to_num(0, 0, 0)) if magnitude.numel() else ATOL


@given(call=index_target_calls(smoothing=False))
def test_nll_loss_matches_torch(call):
    """nll_loss on arbitrary scores (log-probabilities or not): same value and gradient."""
    check_against_torch(
        TORCH_NLL_LOSS, losslab.nll_loss, call, wrt=_differentiable(call, ("input",)), atol=_summation_tolerance(call)
    )


# ------------------------------------------------------------------------------------ error parity


def _mutate(draw, call, smoothing):
    """Apply one mistake (or a harmless change) to a valid call; return the names to differentiate."""
    input, target = call["input"], call["target"]
    n_classes = input.shape[1] if input.dim() >= 2 else input.shape[0] if input.dim() else 1
    mistake = draw(
        st.sampled_from(
            [
                "target dtype",
                "class out of range",
                "batch size",
                "(N, 1) target",
                "reduction",
                "weight shape",
                "weight dtype",
                "weight requires grad",
                "probability target",
                "K-dim target",
                "0-d input",
                "integer input",
                "mixed dtypes",
                "uint8 target",
                "none",
            ]
            + (["label smoothing"] if smoothing else [])
        )
    )
    wrt = ["input"]
    if mistake == "target dtype":
        dtype = draw(st.sampled_from([torch.int32, torch.int16, torch.float32, torch.float64, torch.bool]))
        call["target"] = target.to(dtype)
    elif mistake == "class out of range" and target.numel():
        bad = draw(st.sampled_from([n_classes, n_classes + 3, -1, -2]))
        call["target"] = target.flatten().index_fill(0, torch.tensor([0]), bad).view_as(target)
    elif mistake == "batch size":
        shape = list(target.shape) or [1]
        shape[0] = max(shape[0] + draw(st.sampled_from([-1, 1, 2])), 0)
        call["target"] = torch.zeros(shape, dtype=torch.int64)
    elif mistake == "(N, 1) target":
        call["target"] = target.unsqueeze(-1)
    elif mistake == "label smoothing":
        call["label_smoothing"] = draw(st.sampled_from([1.5, 1.0000001, 2.0, -0.5, -1.0]))
    elif mistake == "reduction":
        call["reduction"] = draw(st.sampled_from(["avg", "elementwise_mean", "MEAN", "batchmean"]))
    elif mistake == "weight shape":
        shape = draw(st.sampled_from([(n_classes + 1,), (max(n_classes - 1, 0),), (1, n_classes), (n_classes, 1), ()]))
        call["weight"] = torch.ones(shape, dtype=input.dtype)
    elif mistake == "weight dtype":
        call["weight"] = torch.ones(n_classes, dtype=draw(st.sampled_from([torch.float32, torch.int64])))
    elif mistake == "weight requires grad":
        call["weight"] = torch.ones(n_classes, dtype=input.dtype)
        wrt.append("weight")
    elif mistake == "probability target":
        call["target"] = torch.full(input.shape, 0.5, dtype=draw(st.sampled_from([torch.float64, torch.float32])))
        call["ignore_index"] = draw(st.sampled_from([-100, 0, 3]))
        wrt.append("target")
    elif mistake == "K-dim target" and target.dim():
        shape = list(target.shape)
        change = draw(st.sampled_from(["grow", "shrink", "drop", "add"]))
        if change == "grow":
            shape[-1] += 1
        elif change == "shrink":
            shape[-1] = max(shape[-1] - 1, 0)
        elif change == "drop":
            shape.pop()
        else:
            shape.append(1)
        call["target"] = torch.zeros(shape, dtype=torch.int64)
    elif mistake == "0-d input":
        call["input"] = input.sum() if input.numel() else torch.tensor(0.5, dtype=torch.float64)
        call["target"] = draw(
            st.sampled_from([torch.tensor(0), torch.tensor([0]), torch.tensor(0.5, dtype=torch.float64)])
        )
    elif mistake == "integer input":
        call["input"] = input.to(draw(st.sampled_from([torch.int64, torch.int32, torch.bool])))
    elif mistake == "mixed dtypes":
        call["input"] = input.float()
    elif mistake == "uint8 target":
        call["target"] = target.to(torch.uint8)
    return wrt


@st.composite
def possibly_invalid_calls(draw, smoothing=True):
    call = draw(index_target_calls(smoothing=smoothing))
    call["input"] = call["input"].clamp(-30, 30)
    wrt = _mutate(draw, call, smoothing)
    if draw(st.booleans()):
        wrt = _mutate(draw, call, smoothing) + wrt  # sometimes two mistakes: the order of the checks matters
    return call, tuple(wrt)


@given(case=possibly_invalid_calls())
def test_cross_entropy_raises_exactly_when_torch_raises(case):
    """Error parity: torch raises iff losslab raises, with the same exception type and a helpful message."""
    call, wrt = case
    check_against_torch(TORCH_CROSS_ENTROPY, losslab.cross_entropy, call, wrt=_differentiable(call, wrt))


@given(case=possibly_invalid_calls(smoothing=False))
def test_nll_loss_raises_exactly_when_torch_raises(case):
    call, wrt = case
    check_against_torch(
        TORCH_NLL_LOSS, losslab.nll_loss, call, wrt=_differentiable(call, wrt), atol=_summation_tolerance(call)
    )


# --------------------------------------------------------------------------------- error messages

X = torch.randn(3, 4, dtype=torch.float64)
T = torch.tensor([0, 3, 1])

ERRORS = {
    # name: (call on a module (F or losslab), exception type, the problem it must name)
    "float target": (lambda m: m.cross_entropy(X, T.double()), RuntimeError, "Long or Byte"),
    "int32 target": (lambda m: m.cross_entropy(X, T.int()), RuntimeError, "Long or Byte"),
    "class out of range": (lambda m: m.cross_entropy(X, torch.tensor([0, 4, 1])), IndexError, "out of bounds"),
    "negative class": (lambda m: m.nll_loss(X, torch.tensor([0, -1, 1])), IndexError, "out of bounds"),
    "batch size mismatch": (lambda m: m.cross_entropy(X, T[:2]), ValueError, "batch_size"),
    "(N, 1) target": (lambda m: m.cross_entropy(X, T[:, None]), RuntimeError, "multi-target"),
    "unbatched input, long target": (lambda m: m.cross_entropy(X[0], T), ValueError, "size 1"),
    "0-d input": (lambda m: m.cross_entropy(torch.tensor(1.0), T), IndexError, "no dimensions"),
    "0-d input to nll_loss": (lambda m: m.nll_loss(torch.tensor(1.0), T), ValueError, "dimensions"),
    "0-d target, empty batch": (lambda m: m.cross_entropy(X[:0], torch.tensor(1)), IndexError, "no dimensions"),
    "K-dim target shape": (lambda m: m.cross_entropy(X[:, :, None], T[:, None, None]), RuntimeError, "target size"),
    # Notebook 07's catalogue of errors, each as the notebook makes it (float32 logits, a numpy weight).
    "padding with -1": (lambda m: m.cross_entropy(X, torch.tensor([0, 1, -1])), IndexError, "out of bounds"),
    "unpermuted (N, T, C) sequence output": (
        lambda m: m.cross_entropy(torch.zeros(2, 5, 3), torch.zeros(2, 5, dtype=torch.long)),
        RuntimeError,
        r"target size.*permute the input to \(N, C, T\): use input\.permute\(0, 2, 1\)",
    ),
    "channels-last (N, H, W, C) output": (
        lambda m: m.cross_entropy(torch.zeros(2, 4, 4, 3), torch.zeros(2, 4, 4, dtype=torch.long)),
        RuntimeError,
        r"target size.*input\.movedim\(-1, 1\)",
    ),
    "float64 weight (from numpy), float32 input": (
        lambda m: m.cross_entropy(X.float(), T, weight=torch.from_numpy(np.array([1.0, 2.0, 3.0, 4.0]))),
        RuntimeError,
        "scalar type",
    ),
    "K-dim input without classes": (
        lambda m: m.cross_entropy(X[:, :0, None], T[:, None] * 0 - 100),
        RuntimeError,
        "size mismatch",
    ),
    "uint8 target, K-dim": (lambda m: m.cross_entropy(X[:, :, None], T[:, None].byte()), RuntimeError, "Byte"),
    "label_smoothing > 1": (lambda m: m.cross_entropy(X, T, label_smoothing=1.5), RuntimeError, "label_smoothing"),
    "unknown reduction": (lambda m: m.cross_entropy(X, T, reduction="avg"), ValueError, "reduction"),
    "weight size": (lambda m: m.cross_entropy(X, T, weight=torch.ones(3).double()), RuntimeError, "weight"),
    "2-D weight": (lambda m: m.cross_entropy(X, T, weight=torch.ones(1, 4).double()), RuntimeError, "weight"),
    "weight dtype": (lambda m: m.cross_entropy(X, T, weight=torch.ones(4)), RuntimeError, "scalar type"),
    "weight requires grad": (
        lambda m: m.cross_entropy(X, T, weight=torch.ones(4).double().requires_grad_()),
        RuntimeError,
        "differentiable",
    ),
    "integer input": (lambda m: m.cross_entropy(X.long(), T), NotImplementedError, "Long|int64"),
    "integer probability target": (lambda m: m.cross_entropy(X, X.long()), RuntimeError, "floating point"),
    "ignore_index with probabilities": (
        lambda m: m.cross_entropy(X, X.softmax(1), ignore_index=0),
        RuntimeError,
        "ignore_index",
    ),
    "2-D weight with probabilities": (
        lambda m: m.cross_entropy(X, X.softmax(1), weight=torch.ones(1, 4).double()),
        RuntimeError,
        "weight",
    ),
    "0-d weight, smoothing, K-dim": (
        lambda m: m.cross_entropy(
            X[:, :1, None], T[:, None] * 0, weight=torch.tensor(1.0).double(), label_smoothing=0.1
        ),
        IndexError,
        "no dimensions|weight",
    ),
    "(1, C) weight, smoothing, K-dim": (
        lambda m: m.cross_entropy(X[:, :, None], T[:, None], weight=torch.ones(1, 4).double(), label_smoothing=0.1),
        RuntimeError,
        "shape|weight",
    ),
    "(C, 1) weight, smoothing, mean": (
        lambda m: m.cross_entropy(X[:, :, None], T[:, None], weight=torch.ones(4, 1).double(), label_smoothing=0.1),
        RuntimeError,
        "gather|weight",
    ),
    "uint8 target, weight, smoothing, mean": (
        lambda m: m.cross_entropy(X, T.byte(), weight=torch.ones(4).double(), label_smoothing=0.1),
        RuntimeError,
        "gather|int64",
    ),
    "(1,) target, unbatched, smoothing": (
        lambda m: m.cross_entropy(X[0], T[:1], label_smoothing=0.1),
        RuntimeError,
        "shape",
    ),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_are_torchs_and_helpful(name):
    """Each of losslab's errors: torch raises the same type for the same call, and losslab's message
    names the problem (as torch's does) and says what to do."""
    call, error, problem = ERRORS[name]
    assert_raises_like_torch(call, F, losslab, error, problem)


def test_the_hint_for_an_unpermuted_sequence_output_changes_the_input_not_the_target():
    """A sequence model's (N, T, C) logits passed as they are: the target (N, T) is right, the input is in
    the wrong layout. The hint says to permute the input to (N, C, T), and nothing about changing the target
    (which would only move the error along). The fix it names works."""
    logits = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))  # (N, T, C)
    target = torch.tensor([[0, 2, 1, 1, 0], [2, 0, 1, 2, 2]])  # (N, T)
    with pytest.raises(RuntimeError) as torch_raised:
        F.cross_entropy(logits, target)
    with pytest.raises(RuntimeError) as raised:
        losslab.cross_entropy(logits, target)
    message = str(raised.value)
    assert message.startswith(str(torch_raised.value).rstrip("."))  # PyTorch's own words come first
    assert "permute the input to (N, C, T)" in message and "input.permute(0, 2, 1)" in message
    assert "give the target" not in message and "target.permute" not in message
    torch.testing.assert_close(
        losslab.cross_entropy(logits.permute(0, 2, 1), target), F.cross_entropy(logits.reshape(-1, 3), target.flatten())
    )


def test_other_k_dim_target_mismatches_keep_the_target_hint():
    """Only a target that fits the input with its classes last gets the permute hint."""
    with pytest.raises(RuntimeError) as raised:
        losslab.cross_entropy(torch.zeros(2, 3, 4), torch.zeros(2, 5, dtype=torch.long))
    assert "give the target the input's shape without its class dimension" in str(raised.value)
    assert "permute" not in str(raised.value)


def test_deprecated_elementwise_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="elementwise_mean"):
        expected = F.cross_entropy(X, T, reduction="elementwise_mean")
    with pytest.warns(UserWarning, match="elementwise_mean"):
        actual = losslab.cross_entropy(X, T, reduction="elementwise_mean")
    torch.testing.assert_close(actual, expected)
    torch.testing.assert_close(actual, losslab.cross_entropy(X, T))


# ---------------------------------------------------------------------------- documented semantics


def test_ignored_samples_get_zero_loss_and_zero_gradient():
    x = X.clone().requires_grad_()
    losses = losslab.cross_entropy(x, torch.tensor([0, -100, 1]), reduction="none")
    losses.sum().backward()
    assert losses[1] == 0
    assert (x.grad[1] == 0).all() and (x.grad[0] != 0).all()


def test_uint8_targets_compare_ignore_index_as_torch_does():
    """torch's quirk, mirrored: nll_loss never ignores a uint8 target of 156 (it compares as int64 with -100),
    but the smoothing term compares in uint8, where -100 wraps to 156, and drops it."""
    x = torch.zeros(2, 160, dtype=torch.float64)
    target = torch.tensor([156, 1], dtype=torch.uint8)
    for kwargs in [{}, {"label_smoothing": 0.5}]:
        expected = F.cross_entropy(x, target, reduction="none", **kwargs)
        torch.testing.assert_close(losslab.cross_entropy(x, target, reduction="none", **kwargs), expected)
    assert expected[0] == pytest.approx(0.5 * np.log(160))  # the nll half only


def test_unbatched_target_of_shape_1_has_a_gradient():
    """The one torch behaviour not mirrored: for a (C,) input torch accepts a (1,) target in the forward
    pass but its backward then fails (unless C == 1). losslab gives the gradient of the () target."""
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="size mismatch"):
        F.cross_entropy(x, torch.tensor([2])).backward()
    (grad,) = torch.autograd.grad(losslab.cross_entropy(x, torch.tensor([2])), x)
    (expected,) = torch.autograd.grad(F.cross_entropy(x, torch.tensor(2)), x)
    torch.testing.assert_close(grad, expected)
