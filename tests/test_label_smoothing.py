"""losslab.label_smoothing: smoothed targets, binary smoothing, the optimal logit gap and the weighted optimum,
against torch.nn.functional (property tests in float64) and against their definitions."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from torch.testing import assert_close

from losslab.label_smoothing import (
    check_alpha,
    loss_along_gap,
    minimum_loss,
    optimal_logit_gap,
    smooth_binary_labels,
    smooth_targets,
    weighted_optimum,
)
from strategies import ATOL, RTOL, assert_helpful, logits, reductions, tensors, weights

alphas = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1))


@st.composite
def smoothing_calls(draw):
    """Logits (N, C) or unbatched (C,), class indices, alpha, a reduction and maybe class weights."""
    n_classes = draw(st.integers(1, 6))
    batched = draw(st.booleans())
    n = draw(st.integers(0, 5)) if batched else None
    shape = (n, n_classes) if batched else (n_classes,)
    target_shape = (n,) if batched else ()
    size = n if batched else 1
    target = torch.tensor(draw(st.lists(st.integers(0, n_classes - 1), min_size=size, max_size=size)), dtype=torch.long)
    return dict(
        input=draw(logits(shape)),
        target=target.reshape(target_shape),
        weight=draw(st.one_of(st.none(), weights((n_classes,)))),
        reduction=draw(reductions()),
        alpha=draw(alphas),
    )


def _value_and_grad(loss_fn, input):
    input = input.detach().clone().requires_grad_(True)
    value = loss_fn(input)
    probe = torch.linspace(0.5, 1.5, value.numel(), dtype=value.dtype).reshape(value.shape)
    (grad,) = torch.autograd.grad(value, input, probe) if value.numel() else (torch.zeros_like(input),)
    return value.detach(), grad


@given(call=smoothing_calls())
def test_cross_entropy_against_smoothed_targets_equals_label_smoothing(call):
    """CE with smooth_targets(...) as probability targets == F.cross_entropy(label_smoothing=alpha): value and
    gradient, with and without class weights. Under mean with weights, torch divides by the summed weights
    of the targets, the probability-target loss by N: the sums agree."""
    input, target, weight, reduction, alpha = call.values()
    q = smooth_targets(target, input.shape[-1], alpha, dtype=torch.float64)  # (N, C) or (C,)
    expected, expected_grad = _value_and_grad(
        lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction, label_smoothing=alpha), input
    )
    if weight is not None and reduction == "mean":
        total_weight = weight[target].sum()
        assume(total_weight > 0)  # otherwise torch's 0 / 0 and our x / 0 give nan and inf: nothing to compare
        actual, actual_grad = _value_and_grad(
            lambda x: F.cross_entropy(x, q, weight=weight, reduction="sum") / total_weight, input
        )
    else:
        actual, actual_grad = _value_and_grad(
            lambda x: F.cross_entropy(x, q, weight=weight, reduction=reduction), input
        )
    assert_close(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True)
    assert_close(actual_grad, expected_grad, rtol=RTOL, atol=ATOL, equal_nan=True)


def seeded_example():
    """The curriculum's label-smoothing batch: logits (10, 5) and targets (10,), both from seed 42."""
    torch.manual_seed(42)
    targets = torch.randint(0, 5, (10,))
    torch.manual_seed(42)
    return torch.rand(10, 5), targets


def test_curriculum_numbers_through_smooth_targets():
    logits_, targets = seeded_example()
    assert round(F.cross_entropy(logits_, smooth_targets(targets, 5, 0.0)).item(), 4) == 1.6211
    assert round(F.cross_entropy(logits_, smooth_targets(targets, 5, 0.1)).item(), 4) == 1.6227


# ------------------------------------------------------------------------------------ smooth_targets


def test_smooth_targets_values():
    q = smooth_targets(torch.tensor([0, 2]), 4, 0.1)
    expected = torch.tensor([[0.925, 0.025, 0.025, 0.025], [0.025, 0.025, 0.925, 0.025]])
    assert q.dtype == torch.float32
    assert_close(q, expected)


@given(
    target=st.lists(st.integers(0, 6), min_size=0, max_size=6).map(lambda t: torch.tensor(t, dtype=torch.long)),
    extra_classes=st.integers(0, 3),
    alpha=alphas,
)
def test_smooth_targets_is_one_minus_alpha_one_hot_plus_alpha_over_c(target, extra_classes, alpha):
    n_classes = 7 + extra_classes
    q = smooth_targets(target, n_classes, alpha, dtype=torch.float64)  # (N, C)
    expected = (1 - alpha) * F.one_hot(target, n_classes).double() + alpha / n_classes
    assert_close(q, expected, rtol=0, atol=1e-15)
    assert_close(q.sum(dim=1), torch.ones(len(target), dtype=torch.float64), rtol=0, atol=1e-12)
    if len(target):
        assert_close(
            q[torch.arange(len(target)), target],
            torch.full((len(target),), 1 - alpha + alpha / n_classes, dtype=torch.float64),
        )


def test_smooth_targets_at_the_ends_is_one_hot_and_uniform():
    target = torch.tensor([1, 0, 2])
    assert torch.equal(smooth_targets(target, 3, 0.0), F.one_hot(target, 3).float())
    assert_close(smooth_targets(target, 3, 1.0), torch.full((3, 3), 1 / 3))


@pytest.mark.parametrize(("shape", "expected"), [((), (4,)), ((3,), (3, 4)), ((2, 3), (2, 3, 4))])
def test_smooth_targets_adds_a_class_dimension_last(shape, expected):
    assert smooth_targets(torch.zeros(shape, dtype=torch.long), 4, 0.2).shape == expected


def test_smooth_targets_accepts_uint8_targets_and_a_tensor_alpha():
    q = smooth_targets(torch.tensor([1], dtype=torch.uint8), 2, torch.tensor(0.5))
    assert_close(q, torch.tensor([[0.25, 0.75]]))


@given(n_classes=st.integers(2, 8), alpha=st.floats(0, 1), data=st.data())
def test_the_variant_is_pytorch_smoothing_with_a_larger_alpha(n_classes, alpha, data):
    """1 - a on the target and a / (C - 1) elsewhere == smoothing with a' = a C / (C - 1) (when a' <= 1)."""
    assume(alpha * n_classes / (n_classes - 1) <= 1)
    target = torch.tensor(data.draw(st.lists(st.integers(0, n_classes - 1), min_size=1, max_size=5)))
    one_hot = F.one_hot(target, n_classes).double()
    variant = one_hot * (1 - alpha) + (1 - one_hot) * alpha / (n_classes - 1)
    larger = smooth_targets(target, n_classes, alpha * n_classes / (n_classes - 1), dtype=torch.float64)
    assert_close(variant, larger, rtol=0, atol=1e-15)


@pytest.mark.parametrize("alpha", [-0.1, 1.1, math.nan, math.inf, torch.tensor(2.0)])
def test_alpha_outside_zero_one_is_refused(alpha):
    with pytest.raises(ValueError, match="must be between 0.0 and 1.0") as raised:
        smooth_targets(torch.tensor([0]), 3, alpha)
    assert_helpful(raised.value)
    others = (
        lambda: smooth_binary_labels(torch.tensor([1.0]), alpha),
        lambda: optimal_logit_gap(alpha, 3),
        lambda: minimum_loss(alpha, 3),
        lambda: loss_along_gap([0.0], alpha, 3),
        lambda: weighted_optimum(torch.ones(3), 0, alpha),
    )
    for call in others:
        with pytest.raises(ValueError, match="must be between 0.0 and 1.0"):
            call()


@pytest.mark.parametrize("alpha", ["0.1", None, True, torch.tensor([0.1, 0.2])])
def test_alpha_must_be_one_number(alpha):
    with pytest.raises((TypeError, ValueError)) as raised:
        check_alpha(alpha)
    assert_helpful(raised.value)


def test_torch_refuses_label_smoothing_above_one_too():
    with pytest.raises(RuntimeError, match="between 0.0 and 1.0"):
        F.cross_entropy(torch.zeros(1, 3), torch.tensor([0]), label_smoothing=1.5)


@pytest.mark.parametrize(
    ("target", "num_classes", "error", "problem"),
    [
        (torch.tensor([0.0, 1.0]), 3, TypeError, "class indices"),
        (torch.tensor([True]), 3, TypeError, "class indices"),
        ([0, 1], 3, TypeError, "class indices"),
        (torch.tensor([0, 3]), 3, IndexError, "Target 3 is out of bounds"),
        (torch.tensor([-1, 0]), 3, IndexError, "Target -1 is out of bounds"),
        (torch.tensor([0]), 0, ValueError, "num_classes must be at least 1"),
        (torch.tensor([0]), 2.0, TypeError, "num_classes must be an int"),
    ],
)
def test_smooth_targets_refuses_bad_arguments(target, num_classes, error, problem):
    with pytest.raises(error, match=problem) as raised:
        smooth_targets(target, num_classes, 0.1)
    assert_helpful(raised.value)


# ------------------------------------------------------------------------------- binary smoothing


def test_smooth_binary_labels_moves_both_labels_towards_one_half():
    labels = smooth_binary_labels(torch.tensor([0, 1, 1, 0]), 0.1)
    assert labels.dtype == torch.float32
    assert_close(labels, torch.tensor([0.05, 0.95, 0.95, 0.05]))
    assert_close(smooth_binary_labels(torch.tensor([0.0, 1.0]), 1.0), torch.tensor([0.5, 0.5]))


def test_smoothing_with_classes_counted_in_the_batch_breaks_without_positives():
    """The trap: N = labels.max() + 1 is 1 for an all-negative batch, so the labels become alpha, not alpha / 2."""
    alpha = 0.1

    def smooth_by_batch(labels):
        return labels * (1 - alpha) + alpha / (int(labels.max()) + 1)

    mixed, negatives = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0])
    assert_close(smooth_by_batch(mixed), smooth_binary_labels(mixed, alpha))
    assert_close(smooth_by_batch(negatives), torch.tensor([0.1, 0.1]))
    assert_close(smooth_binary_labels(negatives, alpha), torch.tensor([0.05, 0.05]))


@given(
    x=logits((4,)),
    labels=st.lists(st.integers(0, 1), min_size=4, max_size=4).map(torch.tensor),
    alpha=alphas,
)
def test_binary_smoothing_is_two_class_label_smoothing(x, labels, alpha):
    """BCE with logits against y (1 - a) + a / 2 == two-class cross-entropy of the logits [0, x] with label_smoothing=a."""
    bce = F.binary_cross_entropy_with_logits(x, smooth_binary_labels(labels.double(), alpha), reduction="none")
    two_class = torch.stack([torch.zeros_like(x), x], dim=1)  # (N, 2): class 1 is the positive one
    ce = F.cross_entropy(two_class, labels, label_smoothing=alpha, reduction="none")
    # torch's BCE computes (1 - y) x + ..., which for large |x| and y near 0 cancels: allow a few ulps of |x|.
    assert_close(bce, ce, rtol=RTOL, atol=ATOL + 1e-15 * float(x.abs().max()))


@pytest.mark.parametrize(
    ("labels", "error", "problem"),
    [([0, 1], TypeError, "labels must be a tensor"), (torch.tensor([0.0, 2.0]), ValueError, "between 0 and 1")],
)
def test_smooth_binary_labels_refuses_bad_labels(labels, error, problem):
    with pytest.raises(error, match=problem) as raised:
        smooth_binary_labels(labels, 0.1)
    assert_helpful(raised.value)


# ------------------------------------------------------------------------------ the optimal gap


def test_optimal_gap_values():
    assert optimal_logit_gap(0.1, 5) == pytest.approx(math.log(46))
    assert optimal_logit_gap(0.0, 5) == math.inf
    for n_classes in (2, 5, 10):
        assert optimal_logit_gap(1.0, n_classes) == 0.0
        assert minimum_loss(1.0, n_classes) == pytest.approx(math.log(n_classes))
    assert math.copysign(1.0, minimum_loss(0.0, 5)) == 1.0  # 0.0, not -0.0


def _gradient_at(gap, alpha, n_classes):
    g = torch.tensor([gap], dtype=torch.float64, requires_grad=True)
    loss_along_gap(g, alpha, n_classes).sum().backward()
    return g.grad.item()


@given(alpha=st.floats(1e-6, 1), n_classes=st.integers(2, 20))
def test_the_loss_is_flat_at_the_optimal_gap_and_equals_the_entropy_of_q(alpha, n_classes):
    gap = optimal_logit_gap(alpha, n_classes)
    assert abs(_gradient_at(gap, alpha, n_classes)) < 1e-12
    q = smooth_targets(torch.tensor(0), n_classes, alpha, dtype=torch.float64)  # (C,)
    logits_ = torch.zeros(n_classes, dtype=torch.float64)
    logits_[0] = gap
    assert_close(torch.softmax(logits_, dim=0), q, rtol=1e-9, atol=1e-15)  # softmax - q = 0
    entropy = -(q * q.log()).sum().item()
    assert minimum_loss(alpha, n_classes) == pytest.approx(entropy, rel=1e-9)
    assert loss_along_gap([gap], alpha, n_classes).item() == pytest.approx(entropy, rel=1e-9)


@pytest.mark.parametrize(("alpha", "n_classes"), [(0.1, 5), (0.3, 2), (0.02, 10), (1.0, 4)])
def test_a_fine_grid_finds_the_same_minimum(alpha, n_classes):
    gaps = torch.linspace(-2, 12, 140_001, dtype=torch.float64)
    losses = loss_along_gap(gaps, alpha, n_classes)
    assert gaps[losses.argmin()].item() == pytest.approx(optimal_logit_gap(alpha, n_classes), abs=1e-4)


def test_without_smoothing_the_loss_keeps_decreasing():
    gaps = torch.arange(0, 31, dtype=torch.float64)
    losses = loss_along_gap(gaps, 0.0, 5)
    assert (losses.diff() < 0).all() and losses[-1] > 0
    assert all(_gradient_at(g, 0.0, 5) < 0 for g in (0.0, 10.0, 30.0))


@given(alpha=st.floats(0, 1), n_classes=st.integers(2, 10), gap=st.floats(-50, 50))
def test_loss_along_gap_has_a_closed_form(alpha, n_classes, gap):
    """-q_true g + log(e^g + C - 1): the logits [g, 0, ..., 0] against the smoothed target of class 0."""
    q_true = 1 - alpha + alpha / n_classes
    closed_form = (
        -q_true * gap
        + torch.logaddexp(
            torch.tensor(gap, dtype=torch.float64), torch.tensor(math.log(n_classes - 1), dtype=torch.float64)
        ).item()
    )
    assert loss_along_gap([gap], alpha, n_classes).item() == pytest.approx(closed_form, rel=1e-9, abs=1e-12)


def test_the_optimal_gap_shrinks_as_alpha_grows():
    gaps = [optimal_logit_gap(alpha / 100, 5) for alpha in range(1, 101)]
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False))


@pytest.mark.parametrize(("num_classes", "error"), [(1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_the_optimal_gap_needs_two_classes(num_classes, error):
    with pytest.raises(error, match="num_classes") as raised:
        optimal_logit_gap(0.1, num_classes)
    assert_helpful(raised.value)


# ------------------------------------------------------------------------- weights and smoothing


def _descend(weight, target, alpha, steps=3000, lr=1.0):
    """Gradient descent on the logits of one example under torch's weight= + label_smoothing=, in float64."""
    logits_ = torch.zeros(1, weight.numel(), dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        loss = F.cross_entropy(logits_, torch.tensor([target]), weight=weight, label_smoothing=alpha)
        (grad,) = torch.autograd.grad(loss, logits_)
        with torch.no_grad():
            logits_ -= lr * grad
    return torch.softmax(logits_.detach()[0], dim=0)


def test_weighted_optimum_is_where_gradient_descent_ends():
    weight = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    optimum = weighted_optimum(weight, 0, 0.1)
    assert_close(_descend(weight, 0, 0.1), optimum, rtol=0, atol=1e-9)
    assert_close(optimum, torch.tensor([0.925, 0.05, 0.075, 0.1], dtype=torch.float64) / 1.15)


@given(weight=tensors((4,), st.floats(1e-3, 10)), target=st.integers(0, 3), alpha=st.floats(0.01, 1))
def test_torch_gradient_vanishes_at_the_weighted_optimum(weight, target, alpha):
    optimum = weighted_optimum(weight, target, alpha)
    logits_ = optimum.log().unsqueeze(0).requires_grad_(True)  # (1, C): softmax(log p) = p
    loss = F.cross_entropy(logits_, torch.tensor([target]), weight=weight, label_smoothing=alpha, reduction="sum")
    (grad,) = torch.autograd.grad(loss, logits_)
    assert grad.abs().max() < 1e-9 * weight.sum()


def test_equal_weights_leave_the_optimum_at_q():
    optimum = weighted_optimum(torch.full((5,), 3.0), 2, 0.2)
    assert_close(optimum, smooth_targets(torch.tensor(2), 5, 0.2))


@pytest.mark.parametrize(
    ("weight", "problem"),
    [
        (torch.tensor([1.0, 0.0, 2.0]), "must be > 0"),
        (torch.tensor([[1.0, 2.0, 3.0]]), "1-D float"),
        (torch.tensor([1, 2, 3]), "1-D float"),
    ],
)
def test_weighted_optimum_refuses_bad_weights(weight, problem):
    with pytest.raises(ValueError, match=problem) as raised:
        weighted_optimum(weight, 0, 0.1)
    assert_helpful(raised.value)
