"""losslab.gradients: the hand-derived gradients against torch autograd of the losses they differentiate.

Property tests in float64 over the same calls as the loss tests (shapes, class weights, ignore_index,
label smoothing, probability targets, reductions, pos_weight, logits up to 1e30): the closed forms
must equal torch's gradient w.r.t. the input, and a call torch refuses must raise the same exception.
"""

import ast
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import event, given
from hypothesis import strategies as st
from test_binary import bce_with_logits_calls, possibly_invalid_bce_with_logits_calls
from test_cross_entropy import TORCH_CROSS_ENTROPY, index_target_calls, possibly_invalid_calls, probability_target_calls
from test_elementary_ops import REPLACED, forbidden_uses
from torch.testing import assert_close

import losslab
from losslab import gradients
from losslab.gradients import binary_cross_entropy_with_logits_grad, cross_entropy_grad, mse_on_sigmoid_grad
from strategies import (
    ATOL,
    LOW_PRECISION,
    RTOL,
    assert_helpful,
    assert_raises_like_torch,
    logits,
    probabilities,
    reductions,
    small_shapes,
)


class TorchBackwardFailed(Exception):
    """torch's forward pass succeeded but its backward raised (a torch bug: see test_cross_entropy)."""


def torch_gradient(loss, call):
    """d loss(**call) / d input by autograd (of the sum of the losses, for reduction='none')."""
    call = {name: value.detach().clone() if isinstance(value, torch.Tensor) else value for name, value in call.items()}
    input = call["input"]
    if input.is_floating_point():
        input.requires_grad_(True)
    value = loss(**call)
    try:
        (grad,) = torch.autograd.grad(value, input, torch.ones_like(value), materialize_grads=True)
    except RuntimeError as error:
        raise TorchBackwardFailed(error) from error
    return grad


def run(function, call):
    """(result or exception, whether it warned)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(call)
        except TorchBackwardFailed:
            raise
        except Exception as error:  # any exception is an outcome to compare
            result = error
    return result, bool(caught)


def assert_matches_torch(loss, grad_function, call):
    """grad_function(**call) equals torch's gradient of loss(**call) (float64: rtol 1e-9, atol 1e-12), or
    raises the exception type torch raises; and warns exactly when torch does."""
    try:
        expected, torch_warned = run(lambda call: torch_gradient(loss, call), call)
    except TorchBackwardFailed:
        event("torch's backward fails: skipped")
        return
    copies = {name: value.clone() if isinstance(value, torch.Tensor) else value for name, value in call.items()}
    actual, warned = run(lambda call: grad_function(**call), copies)
    if isinstance(expected, Exception) or isinstance(actual, Exception):
        event(f"raises {type(expected).__name__}" if isinstance(expected, Exception) else "torch succeeds")
        assert type(actual) is type(expected), f"torch: {expected!r}\nlosslab: {actual!r}"
        assert_helpful(actual)
        return
    event("both succeed")
    tolerance = dict(rtol=RTOL, atol=ATOL)
    for dtype, (rtol, atol) in LOW_PRECISION.items():  # a call with a lower precision in it is compared at that
        if any(isinstance(value, torch.Tensor) and value.dtype == dtype for value in call.values()):
            tolerance = dict(rtol=rtol, atol=atol)
            break
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert_close(actual, expected, equal_nan=True, **tolerance)
    assert warned == torch_warned
    for name, value in call.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(copies[name], value) or value.isnan().any(), f"{name} was changed in place"


def in_float64(call):
    return {
        name: value.double() if isinstance(value, torch.Tensor) and value.is_floating_point() else value
        for name, value in call.items()
    }


# ----------------------------------------------------------------------------------- cross-entropy


@given(call=index_target_calls())
def test_cross_entropy_grad_matches_autograd_for_class_indices(call):
    """(C,), (N, C) and (N, C, d1, ...) inputs with int64 or uint8 targets, class weights, ignore_index,
    every reduction and label smoothing, logits up to 1e30."""
    assert_matches_torch(TORCH_CROSS_ENTROPY, cross_entropy_grad, call)


@given(call=probability_target_calls())
def test_cross_entropy_grad_matches_autograd_for_probability_targets(call):
    """Targets of the input's shape (one-hot, normalised, or rows that don't sum to 1), weights, smoothing."""
    assert_matches_torch(TORCH_CROSS_ENTROPY, cross_entropy_grad, in_float64(call))


@given(case=possibly_invalid_calls())
def test_cross_entropy_grad_raises_exactly_when_torch_raises(case):
    """The loss's mistakes (target dtype or range, shapes, weights, reduction, smoothing > 1, ...): the same
    exception type as torch, with a message that says what to do; otherwise the same gradient."""
    call, _ = case
    assert_matches_torch(TORCH_CROSS_ENTROPY, cross_entropy_grad, call)


# --------------------------------------------------------------------------------------------- BCE


@given(call=bce_with_logits_calls())
def test_bce_with_logits_grad_matches_autograd(call):
    """Logits up to 1e30, soft labels (even outside [0, 1]), weight and pos_weight broadcasting, reductions."""
    assert_matches_torch(F.binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad, in_float64(call))


@given(case=possibly_invalid_bce_with_logits_calls())
def test_bce_with_logits_grad_raises_exactly_when_torch_raises(case):
    call, _ = case
    assert_matches_torch(F.binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad, call)


# --------------------------------------------------------------------------- MSE on sigmoid (contrast)


def torch_mse_on_sigmoid(input, target, reduction="mean"):
    return F.mse_loss(torch.sigmoid(input), target, reduction=reduction)


@st.composite
def mse_on_sigmoid_calls(draw):
    shape = draw(small_shapes(max_dims=3))
    return dict(input=draw(logits(shape)), target=draw(probabilities(shape)), reduction=draw(reductions()))


@given(call=mse_on_sigmoid_calls())
def test_mse_on_sigmoid_grad_matches_autograd(call):
    """2 (sigmoid(x) - y) sigmoid(x) (1 - sigmoid(x)), over N for the mean: autograd of mse_loss(sigmoid(x), y)."""
    assert_matches_torch(torch_mse_on_sigmoid, mse_on_sigmoid_grad, call)


def test_mse_on_sigmoid_grad_vanishes_where_bce_does_not():
    x, y = torch.tensor([-10.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    assert float(mse_on_sigmoid_grad(x, y)) == pytest.approx(-9.0787e-05, rel=1e-4)
    assert float(binary_cross_entropy_with_logits_grad(x, y)) == pytest.approx(-0.99995, rel=1e-5)


@pytest.mark.parametrize(
    ("call", "error", "problem"),
    [
        (lambda: mse_on_sigmoid_grad(torch.zeros(3), torch.zeros(2, 3)), ValueError, "shape"),
        (lambda: mse_on_sigmoid_grad(torch.zeros(3).long(), torch.zeros(3)), NotImplementedError, "floating"),
        (lambda: mse_on_sigmoid_grad(torch.zeros(3), torch.zeros(3), reduction="avg"), ValueError, "reduction"),
    ],
)
def test_mse_on_sigmoid_grad_refuses_bad_arguments_helpfully(call, error, problem):
    with pytest.raises(error, match=problem) as raised:
        call()
    assert_helpful(raised.value)


# ------------------------------------------------------------------------- the closed forms, by name

LOGITS = torch.tensor(
    [[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]], dtype=torch.float64
)  # (3, 4): notebook 02's worked example
TARGET = torch.tensor([3, 0, 2])
CLASS_WEIGHT = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64)


def one_hot(target, n_classes=4):
    return F.one_hot(target, n_classes).double()


def test_mean_gradient_is_softmax_minus_one_hot_over_n_and_rows_sum_to_zero():
    grad = cross_entropy_grad(LOGITS, TARGET)
    assert_close(grad, (torch.softmax(LOGITS, dim=1) - one_hot(TARGET)) / 3, rtol=0, atol=1e-15)
    assert grad.sum(dim=1).abs().max() < 1e-15
    assert_close(cross_entropy_grad(LOGITS, TARGET, reduction="sum"), 3 * grad, rtol=0, atol=1e-15)
    assert_close(cross_entropy_grad(LOGITS, TARGET, reduction="none"), 3 * grad, rtol=0, atol=1e-15)


def test_weighted_gradient_divides_by_the_sum_of_the_target_weights():
    target_weight = CLASS_WEIGHT[TARGET]  # [3, 1, 0.5]
    expected = target_weight[:, None] * (torch.softmax(LOGITS, dim=1) - one_hot(TARGET)) / target_weight.sum()
    assert_close(cross_entropy_grad(LOGITS, TARGET, weight=CLASS_WEIGHT), expected, rtol=0, atol=1e-15)


def test_smoothed_gradient_is_softmax_minus_the_smoothed_target():
    alpha = 0.1
    smoothed = (1 - alpha) * one_hot(TARGET) + alpha / 4
    expected = (torch.softmax(LOGITS, dim=1) - smoothed) / 3
    assert_close(cross_entropy_grad(LOGITS, TARGET, label_smoothing=alpha), expected, rtol=0, atol=1e-15)


def test_unbatched_input_gives_an_unbatched_gradient():
    grad = cross_entropy_grad(LOGITS[0], TARGET[0])
    assert grad.shape == (4,)
    assert_close(grad, torch.softmax(LOGITS[0], dim=0) - one_hot(TARGET[0]), rtol=0, atol=1e-15)


def test_ignored_rows_get_zero_gradient_and_the_mean_is_over_kept_rows():
    target = torch.tensor([3, -100, 2])
    grad = cross_entropy_grad(LOGITS, target)
    assert (grad[1] == 0).all()
    kept = [0, 2]
    expected = (torch.softmax(LOGITS[kept], dim=1) - one_hot(target[kept])) / 2
    assert_close(grad[kept], expected, rtol=0, atol=1e-15)
    assert (cross_entropy_grad(LOGITS, torch.full((3,), -100)) == 0).all()  # as torch: zeros, not nan


def test_bce_gradient_is_sigmoid_minus_label_over_the_number_of_elements():
    x = torch.tensor([[-10.0, 0.0, 3.0], [2.0, -1.0, 0.5]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.3, 1.0]], dtype=torch.float64)
    assert_close(binary_cross_entropy_with_logits_grad(x, y), (torch.sigmoid(x) - y) / 6, rtol=0, atol=1e-15)
    pos_weight = torch.tensor([1.0, 5.0, 3.0], dtype=torch.float64)
    expected = ((pos_weight * y + 1 - y) * torch.sigmoid(x) - pos_weight * y) / 6
    assert_close(binary_cross_entropy_with_logits_grad(x, y, pos_weight=pos_weight), expected, rtol=0, atol=1e-15)


# Notebook 04 used to compare every option with autograd in one cell, at the few-ulp bound of float64 it states
# (1e-15 for gradients of size at most 1); the notebook now checks one option per concept, and this is the sweep.
_SWEEP = torch.Generator().manual_seed(4)
SWEEP_LOGITS = 3 * torch.randn(6, 5, dtype=torch.float64, generator=_SWEEP)  # (6, 5)
SWEEP_TARGET = torch.randint(0, 5, (6,), generator=_SWEEP)  # (6,)
SWEEP_WEIGHT = 0.5 + torch.rand(5, dtype=torch.float64, generator=_SWEEP)  # (5,)
SWEEP_LABELS = torch.rand(6, 5, dtype=torch.float64, generator=_SWEEP)  # (6, 5): soft labels
SWEEP_POS_WEIGHT = torch.tensor([1.0, 2.0, 3.0, 0.5, 1.0], dtype=torch.float64)  # (5,)
CROSS_ENTROPY_OPTIONS = {
    "mean": {},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
    "weight": {"weight": SWEEP_WEIGHT},
    "label_smoothing=0.1": {"label_smoothing": 0.1},
    "weight, smoothing": {"weight": SWEEP_WEIGHT, "label_smoothing": 0.1},
    "weight, smoothing, sum": {"weight": SWEEP_WEIGHT, "label_smoothing": 0.1, "reduction": "sum"},
}
BCE_OPTIONS = {
    "mean": {},
    "sum, weight": {"reduction": "sum", "weight": SWEEP_WEIGHT},
    "pos_weight": {"pos_weight": SWEEP_POS_WEIGHT},
    "none, pos_weight, weight": {"reduction": "none", "pos_weight": SWEEP_POS_WEIGHT, "weight": SWEEP_WEIGHT},
}


@pytest.mark.parametrize("name", CROSS_ENTROPY_OPTIONS)
def test_cross_entropy_grad_is_within_a_few_ulps_of_autograd_for_every_option(name):
    call = dict(input=SWEEP_LOGITS, target=SWEEP_TARGET, **CROSS_ENTROPY_OPTIONS[name])
    assert_close(cross_entropy_grad(**call), torch_gradient(F.cross_entropy, call), rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", BCE_OPTIONS)
def test_bce_with_logits_grad_is_within_a_few_ulps_of_autograd_for_every_option(name):
    call = dict(input=SWEEP_LOGITS, target=SWEEP_LABELS, **BCE_OPTIONS[name])
    expected = torch_gradient(F.binary_cross_entropy_with_logits, call)
    assert_close(binary_cross_entropy_with_logits_grad(**call), expected, rtol=0, atol=1e-15)


def test_float32_input_gives_a_float32_gradient():
    grad = cross_entropy_grad(LOGITS.float(), TARGET, weight=CLASS_WEIGHT.float(), label_smoothing=0.2)
    assert grad.dtype == torch.float32
    x = LOGITS.float()
    assert binary_cross_entropy_with_logits_grad(x, torch.zeros_like(x)).dtype == torch.float32


# ------------------------------------------------------------------ gradcheck of the hand backward


class HandCrossEntropy(torch.autograd.Function):
    """losslab.cross_entropy forward, cross_entropy_grad backward: what notebook 04 gradchecks."""

    @staticmethod
    def forward(ctx, logits, target, weight, label_smoothing):
        ctx.save_for_backward(logits, target, weight)
        ctx.label_smoothing = label_smoothing
        return losslab.cross_entropy(logits, target, weight=weight, label_smoothing=label_smoothing)

    @staticmethod
    def backward(ctx, grad_output):
        logits, target, weight = ctx.saved_tensors
        grad = cross_entropy_grad(logits, target, weight=weight, label_smoothing=ctx.label_smoothing)
        return grad_output * grad, None, None, None


class HandBCEWithLogits(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, pos_weight):
        ctx.save_for_backward(logits, target, pos_weight)
        return losslab.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)

    @staticmethod
    def backward(ctx, grad_output):
        logits, target, pos_weight = ctx.saved_tensors
        return grad_output * binary_cross_entropy_with_logits_grad(logits, target, pos_weight=pos_weight), None, None


@pytest.mark.parametrize(("weight", "label_smoothing"), [(None, 0.0), (CLASS_WEIGHT, 0.0), (CLASS_WEIGHT, 0.3)])
def test_hand_backward_passes_gradcheck(weight, label_smoothing):
    """Finite differences of the loss agree with the closed forms (gradcheck's default tolerances)."""
    logits = (LOGITS / 3).requires_grad_()
    assert torch.autograd.gradcheck(HandCrossEntropy.apply, (logits, TARGET, weight, label_smoothing))
    x = torch.tensor([-3.0, 0.0, 2.5], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.7], dtype=torch.float64)
    assert torch.autograd.gradcheck(HandBCEWithLogits.apply, (x, y, torch.tensor([2.0], dtype=torch.float64)))


# --------------------------------------------------------------------- built by hand, not autograd


def test_source_does_not_call_what_it_reproduces_or_autograd():
    source = Path(gradients.__file__).read_text()
    assert forbidden_uses(source) == []
    attributes = {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    assert not attributes & {"autograd", "backward", "grad", "requires_grad_"}


def _refuse(name):
    def refused(*args, **kwargs):
        raise AssertionError(f"losslab.gradients called {name}")

    return refused


def test_runs_without_autograd_or_the_reproduced_torch_functions(monkeypatch):
    probability_target = torch.softmax(LOGITS.flip(0), dim=1)
    labels = torch.rand(LOGITS.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    calls = [
        lambda: cross_entropy_grad(LOGITS, TARGET, weight=CLASS_WEIGHT, label_smoothing=0.1),
        lambda: cross_entropy_grad(LOGITS, probability_target, weight=CLASS_WEIGHT, label_smoothing=0.1),
        lambda: binary_cross_entropy_with_logits_grad(LOGITS, labels, pos_weight=CLASS_WEIGHT),
    ]
    expected = [call() for call in calls]
    for owner, names in REPLACED:
        for name in names:
            monkeypatch.setattr(owner, name, _refuse(f"{getattr(owner, '__name__', owner)}.{name}"))
    monkeypatch.setattr(torch.autograd, "grad", _refuse("torch.autograd.grad"))
    monkeypatch.setattr(torch.Tensor, "backward", _refuse("Tensor.backward"))
    with torch.no_grad():  # nothing is recorded, so no gradient could come from autograd
        for call, grad in zip(calls, expected, strict=True):
            assert_close(call(), grad, rtol=0, atol=0)


# ------------------------------------------------------------------------------------- errors, warnings

X = LOGITS
ERRORS = {
    # name: (call with (loss, gradient)), exception type, the problem it must name)
    "float target": (lambda f: f(X, TARGET.double()), RuntimeError, "Long or Byte"),
    "class out of range": (lambda f: f(X, torch.tensor([0, 4, 1])), IndexError, "out of bounds"),
    "batch size mismatch": (lambda f: f(X, TARGET[:2]), ValueError, "batch_size"),
    "(N, 1) target": (lambda f: f(X, TARGET[:, None]), RuntimeError, "multi-target"),
    "label_smoothing > 1": (lambda f: f(X, TARGET, label_smoothing=1.5), RuntimeError, "label_smoothing"),
    "unknown reduction": (lambda f: f(X, TARGET, reduction="avg"), ValueError, "reduction"),
    "weight size": (lambda f: f(X, TARGET, weight=CLASS_WEIGHT[:3]), RuntimeError, "weight"),
    "integer input": (lambda f: f(X.long(), TARGET), NotImplementedError, "Long|int64"),
}
BCE_ERRORS = {
    "shape mismatch": (lambda f: f(X, X[0]), ValueError, "Target size"),
    "integer target": (lambda f: f(X, X.long()), RuntimeError, "int64|Long"),
    "pos_weight shape": (lambda f: f(X, X, pos_weight=torch.ones(3).double()), RuntimeError, "pos_weight|size"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_cross_entropy_grad_errors_are_the_losss(name):
    call, error, problem = ERRORS[name]
    assert_raises_like_torch(call, F.cross_entropy, cross_entropy_grad, error, problem)


@pytest.mark.parametrize("name", BCE_ERRORS)
def test_bce_with_logits_grad_errors_are_the_losss(name):
    call, error, problem = BCE_ERRORS[name]
    assert_raises_like_torch(
        call, F.binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad, error, problem
    )


def test_deprecated_elementwise_mean_warns_once_and_means_mean():
    with pytest.warns(UserWarning, match="elementwise_mean") as caught:
        grad = cross_entropy_grad(X, TARGET, reduction="elementwise_mean")
    assert len(caught) == 1 and caught[0].filename == __file__
    assert_close(grad, cross_entropy_grad(X, TARGET))
