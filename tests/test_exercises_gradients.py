"""losslab.exercises.gradients: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.gradients import (
    check_bce_with_logits_gradient,
    check_ce_gradient,
    check_weighted_ce_gradient,
)
from losslab.gradients import binary_cross_entropy_with_logits_grad, cross_entropy_grad


def one_hot(logits, target):
    return F.one_hot(target, logits.shape[1]).to(logits.dtype)


# --- Exercise 1: the gradient of the mean cross-entropy ---------------------------------------


def ce_gradient(logits, target):
    probs = torch.softmax(logits, dim=1)
    return (probs - one_hot(logits, target)) / logits.shape[0]


def autograd_answer(logits, target):
    leaf = logits.clone().requires_grad_(True)
    F.cross_entropy(leaf, target).backward()
    return leaf.grad


def naive_softmax_gradient(logits, target):
    exps = logits.exp()
    return (exps / exps.sum(dim=1, keepdim=True) - one_hot(logits, target)) / logits.shape[0]


def softmax_minus_one_hot(logits, target):
    return torch.softmax(logits, dim=1) - one_hot(logits, target)


@pytest.mark.parametrize(
    "answer",
    [
        ce_gradient,
        autograd_answer,
        lambda logits, target: cross_entropy_grad(logits, target),
        lambda logits, target: ce_gradient(logits.double(), target),
        lambda logits, target: (torch.softmax(logits - 5.0, dim=-1) - one_hot(logits, target)) / len(target),
    ],
)
def test_ce_gradient_accepts_right_answers(answer, capsys):
    assert_accepts(check_ce_gradient, answer, capsys, "[1000, 0, -1000, 5]")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda z, t: -ce_gradient(z, t), "the sign is flipped"),
        (softmax_minus_one_hot, "you forgot to divide by N = 3"),
        (lambda z, t: softmax_minus_one_hot(z, t) / z.shape[1], "you divided by C = 4, the number of classes"),
        (lambda z, t: softmax_minus_one_hot(z, t) / z.numel(), "you divided by N * C = 12"),
        (lambda z, t: (z - one_hot(z, t)) / z.shape[0], "you used the logits in place of the probabilities"),
        (lambda z, t: z - one_hot(z, t), "and did not divide by N"),
        (
            lambda z, t: (torch.softmax(z, dim=0) - one_hot(z, t)) / z.shape[0],
            "you took the softmax over dim 0 (the batch)",
        ),
        (lambda z, t: torch.softmax(z, dim=1) / z.shape[0], "you forgot to subtract the one-hot target"),
        (lambda z, t: torch.softmax(z, dim=1), "you forgot to subtract the one-hot target and to divide by N"),
        (lambda z, t: (torch.log_softmax(z, dim=1) - one_hot(z, t)) / z.shape[0], "you used log_softmax"),
        (naive_softmax_gradient, "every entry must be finite"),
        (naive_softmax_gradient, "Compute the softmax stably"),
        (lambda z, t: ce_gradient(z, t).sum(dim=1), "returned shape (3,) for logits of shape (3, 4)"),
        (lambda z, t: F.cross_entropy(z, t), "returned shape () for logits of shape (3, 4)"),
        (lambda z, t: ce_gradient(z, t) + 0.01, "row 0 is wrong"),
        (lambda z, t: ce_gradient(z, t) + 0.01, "each row must sum to 0"),
        (lambda z, t: ce_gradient(z, t).flip(0), "row 2 is wrong: for the logits [9.3, -5.3, 7.2, -8.4]"),
    ],
)
def test_ce_gradient_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_ce_gradient, answer, expected, capsys)


def test_ce_gradient_checks_the_second_input_too(capsys):
    def right_for_batches_only(logits, target):
        return ce_gradient(logits, target) * (logits.shape[0] > 1)

    expected = "row 0 is wrong: for the logits [1000, 0, -1000, 5]"
    assert_names_the_mistake(check_ce_gradient, right_for_batches_only, expected, capsys)


# --- Exercise 2: the weighted gradient ---------------------------------------------------------


def weighted_ce_gradient(logits, target, weight):
    target_weight = weight[target]  # (N,)
    return target_weight[:, None] * softmax_minus_one_hot(logits, target) / target_weight.sum()


@pytest.mark.parametrize(
    "answer",
    [
        weighted_ce_gradient,
        lambda logits, target, weight: cross_entropy_grad(logits, target, weight=weight),
        lambda logits, target, weight: weighted_ce_gradient(logits.double(), target, weight.double()),
    ],
)
def test_weighted_ce_gradient_accepts_right_answers(answer, capsys):
    assert_accepts(check_weighted_ce_gradient, answer, capsys, "sum of those weights")


def _weighted(numerator, divisor):
    """A wrong answer built from a numerator rule (per row weights) and a divisor rule."""

    def answer(logits, target, weight):
        n = logits.shape[0]
        difference = softmax_minus_one_hot(logits, target)
        scale = {
            "target": weight[target][:, None],
            "row": weight[:n][:, None],
            "column": weight[None, :],
            "none": torch.ones(1),
        }[numerator]
        total = {
            "target": weight[target].sum(),
            "N": n,
            "all": weight.sum(),
            "none": 1.0,
        }[divisor]
        return scale * difference / total

    return answer


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda z, t, w: -weighted_ce_gradient(z, t, w), "the sign is flipped"),
        (_weighted("target", "N"), "you divided by N = 3, the number of samples"),
        (_weighted("target", "N"), "weight[target].sum() = 4.5"),
        (_weighted("target", "all"), "you divided by the sum of all the class weights, weight.sum() = 6.5"),
        (_weighted("target", "none"), "you did not divide at all"),
        (_weighted("row", "target"), "you weighted row n by weight[n], the weight of class n"),
        (_weighted("column", "target"), "you multiplied each column c by weight[c]"),
        (_weighted("column", "N"), "weight[target[n]]; and you divided by N = 3"),
        (_weighted("none", "N"), "you forgot the weights: this is the unweighted gradient"),
        (_weighted("none", "target"), "you forgot to multiply each row by the weight of its target class"),
        (lambda z, t, w: weighted_ce_gradient(z, t, w) * 1.1, "row 0 is wrong"),
        (lambda z, t, w: weighted_ce_gradient(z, t, w)[:, :2], "returned shape (3, 2) for logits of shape (3, 4)"),
    ],
)
def test_weighted_ce_gradient_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_weighted_ce_gradient, answer, expected, capsys)


# --- Exercise 3: BCE with logits ---------------------------------------------------------------


def bce_with_logits_gradient(x, y):
    return (torch.sigmoid(x) - y) / x.numel()


def mse_on_sigmoid_gradient(x, y):
    p = torch.sigmoid(x)
    return 2 * (p - y) * p * (1 - p)


@pytest.mark.parametrize(
    "answer",
    [
        bce_with_logits_gradient,
        lambda x, y: binary_cross_entropy_with_logits_grad(x, y),
        lambda x, y: (1 / (1 + torch.exp(-x)) - y) / x.numel(),
        lambda x, y: bce_with_logits_gradient(x.double(), y.double()),
    ],
)
def test_bce_with_logits_gradient_accepts_right_answers(answer, capsys):
    assert_accepts(check_bce_with_logits_gradient, answer, capsys, "At x = -10 with y = 1 it is -1.6666e-01")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda x, y: -bce_with_logits_gradient(x, y), "the sign is flipped"),
        (lambda x, y: (x - y) / x.numel(), "you forgot the sigmoid: the gradient is sigmoid(x) - y, not x - y"),
        (lambda x, y: x - y, "you forgot the sigmoid and the 1/N"),
        (lambda x, y: mse_on_sigmoid_gradient(x, y) / x.numel(), "that is the gradient of the squared error"),
        (lambda x, y: mse_on_sigmoid_gradient(x, y) / 2 / x.numel(), "that is (half) the gradient of the squared"),
        (mse_on_sigmoid_gradient, "the squared error on sigmoid(x), without the 1/N"),
        (lambda x, y: torch.sigmoid(x) - y, "you forgot to divide by N = 6"),
        (lambda x, y: (torch.sigmoid(x) - y) / x.shape[0], "you divided by the number of rows, 2"),
        (lambda x, y: (torch.sigmoid(x) - y) / x.shape[1], "you divided by the number of columns, 3"),
        (
            lambda x, y: (torch.sigmoid(x) - y) / (torch.sigmoid(x) * (1 - torch.sigmoid(x))) / x.numel(),
            "that is dL/dp, the derivative with respect to the probability",
        ),
        (lambda x, y: bce_with_logits_gradient(x, y) + 0.01, "entry [0, 0] is wrong: for x = -10 and y = 1"),
        (lambda x, y: bce_with_logits_gradient(x, y).flatten(), "returned shape (6,) for logits of shape (2, 3)"),
        (lambda x, y: torch.log(x), "every entry must be finite"),
    ],
)
def test_bce_with_logits_gradient_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_bce_with_logits_gradient, answer, expected, capsys)
