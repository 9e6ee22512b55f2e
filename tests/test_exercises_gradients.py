"""losslab.exercises.gradients: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.gradients import (
    RANDOM_LOGITS,
    RANDOM_TARGET,
    check_bce_with_logits_gradient,
    check_ce_gradient,
    check_focal_gradient,
    check_weighted_ce_gradient,
    focal_loss,
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
    assert_accepts(check_bce_with_logits_gradient, answer, capsys, "At z = -10 with y = 1 it is -1.6666e-01")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda x, y: -bce_with_logits_gradient(x, y), "the sign is flipped"),
        (lambda x, y: (x - y) / x.numel(), "you forgot the sigmoid: the gradient is sigmoid(z) - y, not z - y"),
        (lambda x, y: x - y, "you forgot the sigmoid and the 1/N"),
        (lambda x, y: mse_on_sigmoid_gradient(x, y) / x.numel(), "that is the gradient of the squared error"),
        (lambda x, y: mse_on_sigmoid_gradient(x, y) / 2 / x.numel(), "that is (half) the gradient of the squared"),
        (mse_on_sigmoid_gradient, "the squared error on sigmoid(z), without the 1/N"),
        (lambda x, y: torch.sigmoid(x) - y, "you forgot to divide by N = 6"),
        (lambda x, y: (torch.sigmoid(x) - y) / x.shape[0], "you divided by the number of rows, 2"),
        (lambda x, y: (torch.sigmoid(x) - y) / x.shape[1], "you divided by the number of columns, 3"),
        (
            lambda x, y: (torch.sigmoid(x) - y) / (torch.sigmoid(x) * (1 - torch.sigmoid(x))) / x.numel(),
            "that is dL/dp, the derivative with respect to the probability",
        ),
        (lambda x, y: bce_with_logits_gradient(x, y) + 0.01, "entry [0, 0] is wrong: for z = -10 and y = 1"),
        (lambda x, y: bce_with_logits_gradient(x, y).flatten(), "returned shape (6,) for logits of shape (2, 3)"),
        (lambda x, y: torch.log(x), "every entry must be finite"),
    ],
)
def test_bce_with_logits_gradient_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_bce_with_logits_gradient, answer, expected, capsys)


# --- Exercise 4: the focal loss's gradient -----------------------------------------------------


def focal_factor(logits, target, gamma, second_term_sign=-1.0, with_p_y=True, exponent_offset=-1.0):
    """(N, 1): the factor that multiplies (p - e_y) / N, right by default; the keywords make typical slips."""
    probs = torch.softmax(logits, dim=1)
    target_prob = probs.gather(1, target[:, None])  # (N, 1)
    log_target_prob = torch.log_softmax(logits, dim=1).gather(1, target[:, None])
    derivative = gamma * (1 - target_prob) ** (gamma + exponent_offset) * log_target_prob
    if with_p_y:
        derivative = derivative * target_prob
    return (1 - target_prob) ** gamma + second_term_sign * derivative


def focal_gradient(logits, target, gamma):
    factor = focal_factor(logits, target, gamma)
    return factor * softmax_minus_one_hot(logits, target) / logits.shape[0]


def focal_by_autograd(logits, target, gamma):
    leaf = logits.clone().requires_grad_(True)
    focal_loss(leaf, target, gamma).backward()
    return leaf.grad


def focal_by_the_long_way(logits, target, gamma):
    """dl/dp_y times dp_y/dz, written out: a right answer in another form."""
    probs = torch.softmax(logits, dim=1)
    p_y = probs.gather(1, target[:, None])  # (N, 1)
    dl_dp_y = gamma * (1 - p_y) ** (gamma - 1) * torch.log(p_y) - (1 - p_y) ** gamma / p_y  # (N, 1)
    dp_y_dz = p_y * (one_hot(logits, target) - probs)  # (N, C)
    return dl_dp_y * dp_y_dz / len(target)


@pytest.mark.parametrize(
    "answer",
    [
        focal_gradient,
        focal_by_autograd,
        focal_by_the_long_way,
        lambda logits, target, gamma: focal_gradient(logits.double(), target, gamma),
    ],
    ids=["closed form", "autograd", "the long way", "float64"],
)
def test_focal_gradient_accepts_right_answers(answer, capsys):
    assert_accepts(check_focal_gradient, answer, capsys, "gamma = 0 (where it is the cross-entropy's (p - e_y) / N)")


def _scaled(factor_keywords=None, scale=1.0, only_target=False):
    def answer(logits, target, gamma):
        factor = focal_factor(logits, target, gamma, **(factor_keywords or {}))
        grad = scale * factor * softmax_minus_one_hot(logits, target) / logits.shape[0]
        return grad * one_hot(logits, target) if only_target else grad

    return answer


def treats_the_factor_as_constant(logits, target, gamma):
    weight = (1 - torch.softmax(logits, dim=1).gather(1, target[:, None])) ** gamma
    return weight * softmax_minus_one_hot(logits, target) / logits.shape[0]


def derivative_of_the_factor_only(logits, target, gamma):
    probs = torch.softmax(logits, dim=1)
    p_y = probs.gather(1, target[:, None])
    factor = -gamma * p_y * (1 - p_y) ** (gamma - 1) * torch.log(p_y)
    return factor * softmax_minus_one_hot(logits, target) / logits.shape[0]


def with_respect_to_p_y(logits, target, gamma):
    p_y = torch.softmax(logits, dim=1).gather(1, target[:, None])
    dl_dp_y = gamma * (1 - p_y) ** (gamma - 1) * torch.log(p_y) - (1 - p_y) ** gamma / p_y
    return dl_dp_y * one_hot(logits, target) / logits.shape[0]


def hard_codes_gamma_2(logits, target, gamma):
    return focal_gradient(logits, target, 2.0)


def right_on_the_worked_example_only(logits, target, gamma):
    return focal_gradient(logits, target, gamma) * (logits.shape == (3, 4))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (_scaled(scale=-1.0), "for the worked example with gamma = 2: the sign is flipped"),
        (treats_the_factor_as_constant, "you treated the factor (1 - p_y)^gamma as a constant"),
        (lambda z, t, gamma: ce_gradient(z, t), "that is the cross-entropy's gradient (p - e_y) / N, right only for"),
        (_scaled(only_target=True), "you only filled in the entries of the target classes"),
        (_scaled(scale=3.0), "you forgot to divide by N = 3"),
        (_scaled(scale=3.0 / 4.0), "you divided by C = 4, the number of classes"),
        (_scaled(scale=1.0 / 4.0), "you divided by N * C = 12"),
        (_scaled({"with_p_y": False}), "the second term of the factor lacks p_y"),
        (_scaled({"second_term_sign": 1.0}), "the sign of the factor's second term is flipped"),
        (_scaled({"exponent_offset": 0.0}), "the exponent in the factor's second term is off by one"),
        (derivative_of_the_factor_only, "you kept only the derivative of the factor"),
        (with_respect_to_p_y, "that is dL/dp_y, the derivative with respect to the target's probability"),
        (
            hard_codes_gamma_2,
            "for the worked example with gamma = 0, row 2 is wrong: with gamma = 0 the focal loss is the cross-entropy",
        ),
        (
            right_on_the_worked_example_only,
            "for random logits (5, 6) with gamma = 0.5, row 1 is wrong: for the logits [-0.9393, -1.134",
        ),
        (
            lambda z, t, gamma: focal_gradient(z, t, gamma) + 0.01,
            "for the worked example with gamma = 2, row 2 is wrong",
        ),
        (lambda z, t, gamma: focal_gradient(z, t, gamma)[:, :2], "returned shape (3, 2) for logits of shape (3, 4)"),
        (lambda z, t, gamma: focal_gradient(z, t, gamma) / 0, "every entry must be finite"),
    ],
)
def test_focal_gradient_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_focal_gradient, answer, expected, capsys)


def test_focal_gradient_mistakes_are_told_apart_on_every_input(capsys):
    """Each typical slip gives the same verdict on the worked example whatever it does elsewhere: the checks
    on gamma = 0 and on random logits catch only what the first one cannot."""
    for answer in (treats_the_factor_as_constant, _scaled(scale=3.0), _scaled({"with_p_y": False})):
        verdict, out = check_focal_gradient(answer), capsys.readouterr().out
        assert verdict is False and out.startswith("Not yet: for the worked example with gamma = 2: "), out


def test_the_random_inputs_are_fixed_and_moderate():
    """Seeded (the same verdict every run) and with no p_y at 0 or 1, where (1 - p_y)^(gamma - 1) breaks."""
    probs = torch.softmax(RANDOM_LOGITS.double(), dim=1).gather(1, RANDOM_TARGET[:, None])
    assert ((probs > 1e-3) & (probs < 0.999)).all()
    generator = torch.Generator().manual_seed(2017)
    assert torch.equal(RANDOM_LOGITS, 2 * torch.randn(5, 6, generator=generator))


def test_focal_loss_with_gamma_zero_is_the_cross_entropy():
    logits = RANDOM_LOGITS.double()
    torch.testing.assert_close(focal_loss(logits, RANDOM_TARGET, 0.0), F.cross_entropy(logits, RANDOM_TARGET))
