"""Shared by the property tests: strategies for small tensors, and running a call in torch and in losslab.

Shapes are kept small (a few elements per dimension) so that 2,000 examples per function stay
fast; the values are not: logits range up to |z| = 1e30 and include Hypothesis' edge cases.
"""

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch.testing import assert_close

# Tolerance for float64 comparisons. Both sides evaluate the same formulas, so they differ only by
# rounding (summation order, fused steps): a few ulps, far inside rtol=1e-9. The atol only matters
# for results that should be 0 but come out as ~1e-17 on one side (e.g. softmax - one-hot).
RTOL, ATOL = 1e-9, 1e-12

# Magnitudes of the logits: ordinary, large, beyond float32's exp() overflow (88.7), and huge
# (1e30: torch stays finite there, so we must too).
SCALES = (3.0, 30.0, 1e4, 1e30)

# An error message should say what to do, not only what is wrong.
HINT = re.compile(r"\b(use|give|convert|pass|squeeze|drop)\b", re.IGNORECASE)


# --------------------------------------------------------------------------------------- tensors


def tensors(shape, elements, dtype=torch.float64):
    """Strategy: a tensor of the given shape, its values drawn from `elements` (Python floats)."""
    return hnp.arrays(np.float64, shape, elements=elements).map(lambda a: torch.from_numpy(a).to(dtype))


@st.composite
def logits(draw, shape, dtype=torch.float64, special=False):
    """Finite floats up to a drawn magnitude; with `special`, also +-inf and nan."""
    scale = draw(st.sampled_from(SCALES))
    elements = st.floats(-scale, scale)
    if special:
        elements = st.one_of(elements, st.sampled_from([np.inf, -np.inf, np.nan]))
    return draw(tensors(shape, elements, dtype))


def probabilities(shape, dtype=torch.float64):
    """Values in [0, 1], including exactly 0 and 1 often."""
    return tensors(shape, st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)), dtype)


def weights(shape, dtype=torch.float64):
    """Non-negative weights, including exactly 0. (Negative weights are legal but make sums cancel, and then
    a different summation order legitimately gives a different answer; they add nothing the signs don't.)"""
    return tensors(shape, st.one_of(st.just(0.0), st.floats(1e-3, 10)), dtype)


def _capped(shape, max_elements):
    return shape if np.prod(shape) <= max_elements else tuple(min(side, 2) for side in shape)


def small_shapes(min_dims=0, max_dims=4, max_side=4, max_elements=64):
    """Shapes of up to max_dims dimensions, sides 0 to max_side (sides capped at 2 beyond max_elements)."""
    sides = st.lists(st.integers(0, max_side), min_size=min_dims, max_size=max_dims)
    return sides.map(lambda sides: _capped(tuple(sides), max_elements))


def reductions():
    return st.sampled_from(["mean", "sum", "none"])


# ----------------------------------------------------------------------------- running both sides


@dataclass
class Outcome:
    """What a call did: its value and gradients, or the exception it raised; and whether it warned."""

    value: torch.Tensor = None
    grads: dict = field(default_factory=dict)
    requires_grad: bool = False
    error: Exception = None
    warned: bool = False


def _fresh(kwargs, wrt):
    fresh = {}
    for name, value in kwargs.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().clone()
            if name in wrt and value.is_floating_point():
                value.requires_grad_(True)
        fresh[name] = value
    return fresh


def outcome(fn, kwargs, wrt=()):
    """Call fn(**kwargs) on fresh copies of the tensors, those named in `wrt` requiring grad, and
    backpropagate a fixed, non-uniform output gradient to them."""
    kwargs = _fresh(kwargs, wrt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(**kwargs)
            leaves = [name for name in wrt if isinstance(kwargs.get(name), torch.Tensor) and kwargs[name].requires_grad]
            grads = {}
            if value.requires_grad and leaves:
                probe = torch.linspace(0.5, 1.5, value.numel(), dtype=value.dtype).reshape(value.shape)
                found = torch.autograd.grad(
                    value, [kwargs[name] for name in leaves], probe, allow_unused=True, materialize_grads=True
                )
                grads = dict(zip(leaves, found, strict=True))
        except Exception as error:  # any exception is an outcome to compare
            return Outcome(error=error, warned=bool(caught))
    return Outcome(value.detach(), grads, value.requires_grad, warned=bool(caught))


def assert_helpful(error):
    message = str(error)
    assert HINT.search(message), f"losslab's error message does not say what to do: {message!r}"


def assert_raises_like_torch(call, torch_version, losslab_version, error, problem=None):
    """call(torch's function) raises `error`; so does call(losslab's), naming `problem` and saying what to do."""
    with pytest.raises(error):
        call(torch_version)
    with pytest.raises(error, match=problem) as raised:
        call(losslab_version)
    assert_helpful(raised.value)


# Tolerances for the lower precisions. A call that mixes in any of these (some examples do, on purpose)
# is compared at that precision throughout: e.g. the float32 loss of a float64 input and a float32 target
# has a float64 gradient, but it comes through float32 arithmetic. A gradient may pass through several
# roundings at that precision, so for float16 and bfloat16 allow about four units in the last place.
LOW_PRECISION = {
    torch.bfloat16: (3.2e-2, 1e-4),
    torch.float16: (4e-3, 1e-4),
    torch.float32: (1.3e-6, 1e-5),
}  # lowest first


def _call_tolerance(kwargs):
    for dtype, tolerance in LOW_PRECISION.items():
        if any(isinstance(v, torch.Tensor) and v.dtype == dtype for v in kwargs.values()):
            rtol, atol = tolerance
            return dict(rtol=rtol, atol=atol, grad_atol=atol)
    return {}


def assert_same(expected, actual, rtol=RTOL, atol=ATOL, grad_atol=None):
    """losslab's outcome `actual` must match torch's `expected`: the same exception type, or the same
    value, dtype, shape, requires_grad and gradients (float64: rtol=1e-9, atol=1e-12, nan == nan)."""
    if expected.error is not None or actual.error is not None:
        event(f"raises {type(expected.error).__name__}" if expected.error is not None else "torch succeeds")
        assert type(actual.error) is type(expected.error), f"torch: {expected.error!r}\nlosslab: {actual.error!r}"
        assert_helpful(actual.error)
        return
    event("both succeed")
    assert_close(actual.value, expected.value, rtol=rtol, atol=atol, equal_nan=True)
    assert actual.requires_grad == expected.requires_grad
    assert actual.grads.keys() == expected.grads.keys()
    for name, grad in expected.grads.items():
        assert_close(
            actual.grads[name],
            grad,
            rtol=rtol,
            atol=atol if grad_atol is None else grad_atol,
            equal_nan=True,
            msg=lambda m, name=name: f"gradient w.r.t. {name}: {m}",
        )
    assert actual.warned == expected.warned, f"torch warned: {expected.warned}, losslab warned: {actual.warned}"


def check_against_torch(torch_fn, lab_fn, kwargs, wrt=(), **tolerance):
    """Run the call in torch and in losslab and assert_same; float64 tolerances unless the call
    involves a lower precision."""
    expected = outcome(torch_fn, kwargs, wrt)
    actual = outcome(lab_fn, kwargs, wrt)
    assert_same(expected, actual, **{**tolerance, **_call_tolerance(kwargs)})
    return expected
