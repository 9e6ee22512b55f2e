"""losslab.exercises.binary: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.binary import check_bce, check_stable_bce_with_logits, check_weighted_bce


def per_element_bce(probs, labels):
    return -(labels * probs.log() + (1 - labels) * (1 - probs).log())


# --- Exercise 1: mean BCE on probabilities ------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        lambda probs, labels: per_element_bce(probs, labels).mean(),
        lambda probs, labels: F.binary_cross_entropy(probs, labels),
        lambda probs, labels: torch.nn.BCELoss()(probs, labels),
        lambda probs, labels: -(torch.xlogy(labels, probs) + torch.xlogy(1 - labels, 1 - probs)).mean(),
        lambda probs, labels: -(labels * probs.log() + (1 - labels) * torch.log1p(-probs)).sum() / probs.numel(),
        lambda probs, labels: per_element_bce(probs.double(), labels.double()).mean(),
    ],
)
def test_bce_accepts_right_answers(answer, capsys):
    assert_accepts(check_bce, answer, capsys, "soft labels")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda probs, labels: -(probs * labels.log() + (1 - probs) * (1 - labels).log()).mean(),
            "you swapped the arguments, writing p log y where the formula has y log p",
        ),
        (
            lambda probs, labels: (
                -(probs * labels.clamp(min=1e-12).log() + (1 - probs) * (1 - labels).clamp(min=1e-12).log()).mean()
            ),
            "for the probabilities",
        ),
        (
            lambda probs, labels: (labels * probs.log() + (1 - labels) * (1 - probs).log()).mean(),
            "you forgot the minus sign",
        ),
        (lambda probs, labels: (-labels * probs.log()).mean(), "you forgot the (1 - y) log(1 - p) term"),
        (lambda probs, labels: -(labels * probs.log() + (1 - probs).log()).mean(), "you dropped the factor (1 - y)"),
        (lambda probs, labels: per_element_bce(probs, labels).sum(), "that is the sum"),
        (
            lambda probs, labels: per_element_bce(probs, labels).sum(dim=1).mean(),
            "you summed over the classes and averaged over the batch only",
        ),
        (
            lambda probs, labels: per_element_bce(probs, labels).sum(dim=0).mean(),
            "you summed over the batch and averaged over the classes only",
        ),
        (lambda probs, labels: per_element_bce(probs, labels).mean(dim=0), "you averaged over dim 0 (the batch) only"),
        (
            lambda probs, labels: per_element_bce(probs, labels).mean(dim=1),
            "you averaged over dim 1 (the classes) only",
        ),
        (lambda probs, labels: per_element_bce(probs, labels), "returned one loss per element, shape (4, 3)"),
        (
            lambda probs, labels: per_element_bce(probs, labels).mean().reshape(1, 1),
            "return a single number (a 0-d tensor)",
        ),
        (lambda probs, labels: F.binary_cross_entropy_with_logits(probs, labels), "a function that expects logits"),
        (lambda probs, labels: (per_element_bce(probs, labels) / math.log(10)).mean(), "base 10"),
        (lambda probs, labels: (per_element_bce(probs, labels) / math.log(2)).mean(), "base 2"),
        (
            lambda probs, labels: torch.where(labels > 0.5, -probs.log(), -(1 - probs).log()).mean(),
            "right for labels 0 and 1, but not for soft labels",
        ),
        (
            lambda probs, labels: per_element_bce(probs, labels).mean() + 0.1,
            "the mean BCE is 0.3095, you return 0.4095",
        ),
        (lambda probs, labels: torch.tensor(math.nan), "the loss must be finite"),
    ],
)
def test_bce_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_bce, answer, expected, capsys)


# --- Exercise 2: stable BCE with logits -----------------------------------------------------


def stable(logits, labels):
    return logits.clamp(min=0) - logits * labels + torch.log1p(torch.exp(-logits.abs()))


@pytest.mark.parametrize(
    "answer",
    [
        stable,
        lambda logits, labels: F.binary_cross_entropy_with_logits(logits, labels, reduction="none"),
        lambda logits, labels: (1 - labels) * logits - F.logsigmoid(logits),
        lambda logits, labels: (
            torch.relu(logits) - logits * labels + torch.log(1 + torch.exp(-logits.abs()))
        ),  # no log1p
        lambda logits, labels: stable(logits.double(), labels.double()),
    ],
)
def test_stable_bce_with_logits_accepts_right_answers(answer, capsys):
    assert_accepts(check_stable_bce_with_logits, answer, capsys, "±1000")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda logits, labels: (
                -(labels * torch.sigmoid(logits).log() + (1 - labels) * (1 - torch.sigmoid(logits)).log())
            ),
            "log(sigmoid(x)) is log(0) = -inf",
        ),
        (
            lambda logits, labels: F.binary_cross_entropy(torch.sigmoid(logits), labels, reduction="none"),
            "BCELoss clamps each log at -100",
        ),
        (lambda logits, labels: -logits * labels + torch.log1p(torch.exp(-logits.abs())), "you forgot max(x, 0)"),
        (
            lambda logits, labels: -logits * labels + torch.log1p(torch.exp(logits)),
            "returns inf or nan at x = 200 and 1000: e^{x} (or e^{-x}) overflows",
        ),
        (
            lambda logits, labels: (1 - labels) * logits + torch.log1p(torch.exp(-logits)),
            "returns inf or nan at x = -200 and -1000",
        ),
        (
            lambda logits, labels: logits.clamp(min=0) - logits * labels + torch.log1p(torch.exp(-logits)),
            "you used e^{-x} where the stable form has e^{-|x|}",
        ),
        (lambda logits, labels: -stable(logits, labels), "you flipped the sign"),
        (lambda logits, labels: stable(logits, 1 - labels), "you swapped the roles of y and 1 - y"),
        (lambda logits, labels: stable(logits, labels).mean(), "returned shape (): return one loss per element"),
        (lambda logits, labels: stable(logits, labels) + 0.5, "at x = -2.5, y = 1 the loss is"),
        (lambda logits, labels: stable(logits, labels.round()), "at x = 0.5, y = 0.3 the loss is"),
    ],
)
def test_stable_bce_with_logits_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_stable_bce_with_logits, answer, expected, capsys)


# --- Exercise 3: pos_weight -------------------------------------------------------------------


def weighted(logits, labels, pos_weight):
    return -(pos_weight * labels * F.logsigmoid(logits) + (1 - labels) * F.logsigmoid(-logits))


def naive_weighted(logits, labels, pos_weight):
    probs = torch.sigmoid(logits)
    return -(pos_weight * labels * probs.log() + (1 - labels) * (1 - probs).log())


@pytest.mark.parametrize(
    "answer",
    [
        weighted,
        lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, pos_weight=w, reduction="none"),
        lambda x, y, w: (1 - y) * x + (1 + (w - 1) * y) * F.softplus(-x),
        lambda x, y, w: weighted(x, y, w[None, :]),
        lambda x, y, w: weighted(x.double(), y.double(), w.double()),
    ],
)
def test_weighted_bce_accepts_right_answers(answer, capsys):
    assert_accepts(check_weighted_bce, answer, capsys, "per class")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, reduction="none"), "pos_weight has no effect"),
        (
            lambda x, y, w: -(y * F.logsigmoid(x) + w * (1 - y) * F.logsigmoid(-x)),
            "you put pos_weight on the negative term",
        ),
        (lambda x, y, w: w * F.binary_cross_entropy_with_logits(x, y, reduction="none"), "you multiplied both terms"),
        (
            lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, weight=w, reduction="none"),
            "that is `weight`, not `pos_weight`",
        ),
        (lambda x, y, w: weighted(x, y, w[:, None]), "you applied pos_weight per row (per example), e.g. with"),
        (
            lambda x, y, w: w[:, None] * F.binary_cross_entropy_with_logits(x, y, reduction="none"),
            "you applied pos_weight per row (per example), to both terms",
        ),
        (naive_weighted, "log(1 - sigmoid(50)) is log(0) in float32"),
        (
            lambda x, y, w: F.binary_cross_entropy(torch.sigmoid(x), y, reduction="none") * (1 + (w - 1) * y),
            "gives 100 at x = 50, y = 0",
        ),
        (lambda x, y, w: weighted(x, y, w).sum(dim=1), "returned shape (3,): return one loss per element"),
        (lambda x, y, w: weighted(x, y, w) * 1.1, "pos_weight = 10 (class 2) the loss is 25.7889, you return 28.3678"),
        (lambda x, y, w: weighted(x, y, 1 / w), "you return 0.2579"),
    ],
)
def test_weighted_bce_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_weighted_bce, answer, expected, capsys)
