"""losslab.binary_cross_entropy and binary_cross_entropy_with_logits against torch.nn.functional.

Property tests in float64: values and gradients w.r.t. the input and the target, with
probabilities exactly 0 and 1, logits up to 1e30, and weight / pos_weight broadcasting.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import losslab
from strategies import (
    assert_raises_like_torch,
    check_against_torch,
    logits,
    probabilities,
    reductions,
    small_shapes,
    tensors,
    weights,
)

# ------------------------------------------------------------------------------------ strategies


@st.composite
def broadcastable_shapes(draw, shape):
    """Shapes that broadcast to `shape` without growing it: leading dimensions dropped, sides set to 1."""
    kept = shape[draw(st.integers(0, len(shape))) :]
    return tuple(side if draw(st.booleans()) else 1 for side in kept)


def optional_weights(shape):
    return st.one_of(st.none(), broadcastable_shapes(shape).flatmap(weights))


@st.composite
def bce_calls(draw):
    shape = draw(small_shapes(max_dims=4))
    return dict(
        input=draw(probabilities(shape)),
        target=draw(probabilities(shape)),
        weight=draw(optional_weights(shape)),
        reduction=draw(reductions()),
    )


@st.composite
def pos_weights(draw, shape):
    """None, one weight per class (the last dimension), a scalar, or any other broadcastable shape.
    Values from 0 up to 10, tiny and subnormal ones included: a pos_weight enters a single element's loss
    (no sum to cancel), and tiny ones are where a careless gradient w.r.t. the target cancels."""
    pos_shape = draw(st.one_of(st.sampled_from([shape[-1:], ()]), broadcastable_shapes(shape)))
    spread = st.floats(-12, 1).map(lambda exponent: 10.0**exponent)  # every magnitude from 1e-12 to 10
    return draw(st.one_of(st.none(), tensors(pos_shape, st.one_of(st.floats(0, 10), spread))))


# (input, target) dtypes: mostly float64; sometimes float32 on either side, where torch's in-place
# steps round to the target's dtype (compared at float32 precision).
DTYPES = [(torch.float64, torch.float64)] * 4 + [
    (torch.float64, torch.float32),
    (torch.float32, torch.float64),
    (torch.float32, torch.float32),
]


@st.composite
def bce_with_logits_calls(draw):
    shape = draw(small_shapes(max_dims=4))
    input_dtype, target_dtype = draw(st.sampled_from(DTYPES))
    labels = st.one_of(probabilities(shape), tensors(shape, st.floats(-0.5, 1.5)))  # torch doesn't check
    return dict(
        input=draw(logits(shape, dtype=input_dtype)),
        target=draw(labels).to(target_dtype),
        weight=draw(optional_weights(shape)),
        reduction=draw(reductions()),
        pos_weight=draw(pos_weights(shape)),
    )


# ----------------------------------------------------------------------------- value properties


@given(call=bce_calls())
def test_binary_cross_entropy_matches_torch(call):
    """Probabilities and labels in [0, 1] (often exactly 0 or 1, where the logs are clamped at -100 and the
    gradient is torch's (p - y) / 1e-12): same value and gradients w.r.t. input and target."""
    check_against_torch(F.binary_cross_entropy, losslab.binary_cross_entropy, call, wrt=("input", "target"))


@given(call=bce_with_logits_calls())
def test_binary_cross_entropy_with_logits_matches_torch(call):
    """Logits up to 1e30, soft labels (even outside [0, 1]), weight and pos_weight broadcasting: same value
    and gradients w.r.t. input and target."""
    check_against_torch(
        F.binary_cross_entropy_with_logits, losslab.binary_cross_entropy_with_logits, call, wrt=("input", "target")
    )


# ------------------------------------------------------------------------------------ error parity


def _mutate_common(draw, call, mistake):
    """Mistakes both losses can suffer; returns True if it applied one."""
    input = call["input"]
    if mistake == "target shape":
        shape = list(input.shape)
        change = draw(st.sampled_from(["add", "drop", "grow"]))
        if change == "add" or not shape:
            shape.append(1)
        elif change == "drop":
            shape.pop()
        else:
            shape[-1] += 1
        call["target"] = torch.full(shape, 0.5, dtype=call["target"].dtype)
    elif mistake == "weight shape":
        shape = draw(
            st.sampled_from([(2, *input.shape), (1, *input.shape), (input.shape[-1] + 1,) if input.dim() else (2,)])
        )
        call["weight"] = torch.ones(shape, dtype=torch.float64)
    elif mistake == "weight dtype":
        call["weight"] = torch.full(
            input.shape, 2, dtype=draw(st.sampled_from([torch.float32, torch.int64, torch.bool]))
        )
    elif mistake == "weight requires grad":
        call["weight"] = torch.ones(input.shape, dtype=torch.float64)
        return ("weight",)
    elif mistake == "reduction":
        call["reduction"] = draw(st.sampled_from(["avg", "elementwise_mean", "MEAN", "batchmean"]))
    elif mistake == "integer input":
        call["input"] = input.double().round().to(draw(st.sampled_from([torch.int64, torch.int32, torch.bool])))
        if draw(st.booleans()):
            call["target"] = call["target"].double().round().to(call["input"].dtype)
    elif mistake == "float32 input":
        call["input"] = input.float()
    elif mistake == "0-d":
        call["input"], call["target"] = input.flatten()[:1].sum(), call["target"].flatten()[:1].sum().clamp(0, 1)
        call["weight"] = None
    return ()


@st.composite
def possibly_invalid_bce_calls(draw):
    call = draw(bce_calls())
    wrt = ["input", "target"]
    for _ in range(draw(st.integers(1, 2))):
        mistake = draw(
            st.sampled_from(
                [
                    "target dtype",
                    "input out of [0, 1]",
                    "target out of [0, 1]",
                    "target shape",
                    "weight shape",
                    "weight dtype",
                    "weight requires grad",
                    "reduction",
                    "integer input",
                    "float32 input",
                    "0-d",
                ]
            )
        )
        if mistake == "target dtype":
            call["target"] = call["target"].to(draw(st.sampled_from([torch.float32, torch.int64, torch.bool])))
        elif (
            mistake in ("input out of [0, 1]", "target out of [0, 1]")
            and call["input"].numel()
            and call[mistake.split()[0]].is_floating_point()
        ):
            name = mistake.split()[0]
            bad = draw(st.sampled_from([-0.1, 1.1, -1e-300, float("nan"), float("inf"), -float("inf")]))
            call[name] = call[name].flatten().index_fill(0, torch.tensor([0]), bad).view_as(call[name])
        else:
            wrt += _mutate_common(draw, call, mistake)
    return call, tuple(wrt)


@given(case=possibly_invalid_bce_calls())
def test_binary_cross_entropy_raises_exactly_when_torch_raises(case):
    """Error parity: torch raises iff losslab raises, with the same exception type and a helpful message."""
    call, wrt = case
    check_against_torch(F.binary_cross_entropy, losslab.binary_cross_entropy, call, wrt=wrt)


@st.composite
def possibly_invalid_bce_with_logits_calls(draw):
    call = draw(bce_with_logits_calls())
    call["input"] = call["input"].clamp(-30, 30)
    wrt = ["input", "target"]
    for _ in range(draw(st.integers(1, 2))):
        mistake = draw(
            st.sampled_from(
                [
                    "target dtype",
                    "target shape",
                    "weight shape",
                    "weight dtype",
                    "weight requires grad",
                    "pos_weight shape",
                    "pos_weight dtype",
                    "pos_weight requires grad",
                    "reduction",
                    "integer input",
                    "float32 input",
                    "0-d",
                ]
            )
        )
        input = call["input"]
        if mistake == "target dtype":
            dtype = draw(st.sampled_from([torch.float32, torch.float16, torch.int64, torch.int32, torch.bool]))
            call["target"] = call["target"].to(dtype)
        elif mistake == "pos_weight shape":
            shape = draw(
                st.sampled_from([(2, *input.shape), (input.shape[-1] + 1,) if input.dim() else (2,), (3, 1, 1, 1, 1)])
            )
            call["pos_weight"] = torch.full(shape, 2.0, dtype=torch.float64)
        elif mistake == "pos_weight dtype":
            dtype = draw(st.sampled_from([torch.float32, torch.int64]))
            call["pos_weight"] = torch.full(input.shape[-1:], 2, dtype=dtype)
        elif mistake == "pos_weight requires grad":
            call["pos_weight"] = torch.full(input.shape[-1:], 2.0, dtype=torch.float64)
            wrt.append("pos_weight")
        else:
            wrt += _mutate_common(draw, call, mistake)
    return call, tuple(wrt)


@given(case=possibly_invalid_bce_with_logits_calls())
def test_binary_cross_entropy_with_logits_raises_exactly_when_torch_raises(case):
    call, wrt = case
    check_against_torch(F.binary_cross_entropy_with_logits, losslab.binary_cross_entropy_with_logits, call, wrt=wrt)


# --------------------------------------------------------------------------------- error messages

TORCH_RELEASE = tuple(int(part) for part in torch.__version__.split(".")[:2])
P = torch.tensor([[0.2, 0.9, 0.5], [0.6, 0.1, 0.3]], dtype=torch.float64)
Y = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]], dtype=torch.float64)

ERRORS = {
    # name: (call on a module (F or losslab), exception type, the problem it must name)
    "BCE: shape mismatch": (lambda m: m.binary_cross_entropy(P, Y[:, :, None]), ValueError, "target size"),
    "BCE: probability above 1": (lambda m: m.binary_cross_entropy(P + 0.5, Y), RuntimeError, "between 0 and 1"),
    "BCE: nan probability": (
        lambda m: m.binary_cross_entropy(P.log() * 0 * torch.inf, Y),
        RuntimeError,
        "between 0 and 1",
    ),
    "BCE: target below 0": (lambda m: m.binary_cross_entropy(P, Y - 1), RuntimeError, "between 0 and 1"),
    "BCE: target dtype": (lambda m: m.binary_cross_entropy(P, Y.float()), RuntimeError, "dtype"),
    "BCE: integer input": (lambda m: m.binary_cross_entropy(P.long(), Y.long()), NotImplementedError, "int64|Long"),
    "BCE: weight shape": (lambda m: m.binary_cross_entropy(P, Y, weight=torch.ones(2)), RuntimeError, "broadcast"),
    "BCE: weight bigger than input": (
        lambda m: m.binary_cross_entropy(P, Y, weight=torch.ones(2, 2, 3)),
        RuntimeError,
        "broadcast",
    ),
    "BCE: weight requires grad": (
        lambda m: m.binary_cross_entropy(P, Y, weight=torch.ones(3, requires_grad=True)),
        RuntimeError,
        "differentiable",
    ),
    "BCE: unknown reduction": (lambda m: m.binary_cross_entropy(P, Y, reduction="avg"), ValueError, "reduction"),
    "logits: shape mismatch": (lambda m: m.binary_cross_entropy_with_logits(P, Y[0]), ValueError, "Target size"),
    "logits: integer target": (lambda m: m.binary_cross_entropy_with_logits(P, Y.long()), RuntimeError, "int64|Long"),
    "logits: bool target": (  # RuntimeError up to torch 2.13, NotImplementedError from 2.14: docs/torch-versions.md
        lambda m: m.binary_cross_entropy_with_logits(P, Y.bool()),
        NotImplementedError if TORCH_RELEASE >= (2, 14) else RuntimeError,
        "bool",
    ),
    "logits: integer input": (
        lambda m: m.binary_cross_entropy_with_logits(P.long(), Y),
        NotImplementedError,
        "int64|Long",
    ),
    "logits: pos_weight shape": (
        lambda m: m.binary_cross_entropy_with_logits(P, Y, pos_weight=torch.ones(2)),
        RuntimeError,
        "pos_weight|size",
    ),
    "logits: pos_weight requires grad": (
        lambda m: m.binary_cross_entropy_with_logits(P, Y, pos_weight=torch.ones(3, requires_grad=True)),
        RuntimeError,
        "differentiable",
    ),
    "logits: weight bigger than input": (
        lambda m: m.binary_cross_entropy_with_logits(P, Y, weight=torch.ones(2, 2, 3)),
        RuntimeError,
        "broadcast",
    ),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_are_torchs_and_helpful(name):
    call, error, problem = ERRORS[name]
    assert_raises_like_torch(call, F, losslab, error, problem)


# ---------------------------------------------------------------------------- documented semantics


def test_result_keeps_the_input_dtype_with_a_float64_weight():
    """torch multiplies the loss by the weight in place, so a float64 weight doesn't promote a float32 loss."""
    p, y = P.float(), Y.float()
    for fn in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        expected = getattr(F, fn)(p, y, weight=torch.ones(3, dtype=torch.float64))
        actual = getattr(losslab, fn)(p, y, weight=torch.ones(3, dtype=torch.float64))
        assert actual.dtype == expected.dtype == torch.float32
        torch.testing.assert_close(actual, expected)


def test_pos_weight_scales_only_positive_labels_per_class():
    x = torch.zeros(4, 3, dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0, 1.0]]).double().expand(4, 3)
    pos_weight = torch.tensor([1.0, 5.0, 3.0], dtype=torch.float64)
    losses = losslab.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight, reduction="none")
    log2 = torch.tensor(2.0, dtype=torch.float64).log()
    torch.testing.assert_close(losses, (torch.tensor([1.0, 1.0, 3.0], dtype=torch.float64) * log2).expand(4, 3))
