"""losslab.exercises.binary: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.binary import (
    MISSING,
    check_bce,
    check_masked_bce,
    check_stable_bce_with_logits,
    check_weighted_bce,
)


def per_element_bce(probs, target):
    return -(target * probs.log() + (1 - target) * (1 - probs).log())


# --- Exercise 1: mean BCE on probabilities ------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        lambda probs, target: per_element_bce(probs, target).mean(),
        lambda probs, target: F.binary_cross_entropy(probs, target),
        lambda probs, target: torch.nn.BCELoss()(probs, target),
        lambda probs, target: -(torch.xlogy(target, probs) + torch.xlogy(1 - target, 1 - probs)).mean(),
        lambda probs, target: -(target * probs.log() + (1 - target) * torch.log1p(-probs)).sum() / probs.numel(),
        lambda probs, target: per_element_bce(probs.double(), target.double()).mean(),
    ],
)
def test_bce_accepts_right_answers(answer, capsys):
    assert_accepts(check_bce, answer, capsys, "soft labels")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda probs, target: -(probs * target.log() + (1 - probs) * (1 - target).log()).mean(),
            "you swapped the arguments, writing p log y where the formula has y log p",
        ),
        (
            lambda probs, target: (
                -(probs * target.clamp(min=1e-12).log() + (1 - probs) * (1 - target).clamp(min=1e-12).log()).mean()
            ),
            "for the probabilities",
        ),
        (
            lambda probs, target: (target * probs.log() + (1 - target) * (1 - probs).log()).mean(),
            "you forgot the minus sign",
        ),
        (lambda probs, target: (-target * probs.log()).mean(), "you forgot the (1 - y) log(1 - p) term"),
        (lambda probs, target: -(target * probs.log() + (1 - probs).log()).mean(), "you dropped the factor (1 - y)"),
        (lambda probs, target: per_element_bce(probs, target).sum(), "that is the sum"),
        (
            lambda probs, target: per_element_bce(probs, target).sum(dim=1).mean(),
            "you summed over the classes and averaged over the batch only",
        ),
        (
            lambda probs, target: per_element_bce(probs, target).sum(dim=0).mean(),
            "you summed over the batch and averaged over the classes only",
        ),
        (lambda probs, target: per_element_bce(probs, target).mean(dim=0), "you averaged over dim 0 (the batch) only"),
        (
            lambda probs, target: per_element_bce(probs, target).mean(dim=1),
            "you averaged over dim 1 (the classes) only",
        ),
        (lambda probs, target: per_element_bce(probs, target), "returned one loss per element, shape (4, 3)"),
        (
            lambda probs, target: per_element_bce(probs, target).mean().reshape(1, 1),
            "return a single number (a 0-d tensor)",
        ),
        (lambda probs, target: F.binary_cross_entropy_with_logits(probs, target), "a function that expects logits"),
        (lambda probs, target: (per_element_bce(probs, target) / math.log(10)).mean(), "base 10"),
        (lambda probs, target: (per_element_bce(probs, target) / math.log(2)).mean(), "base 2"),
        (
            lambda probs, target: torch.where(target > 0.5, -probs.log(), -(1 - probs).log()).mean(),
            "right for labels 0 and 1, but not for soft labels (q in [0, 1])",
        ),
        (
            lambda probs, target: per_element_bce(probs, target).mean() + 0.1,
            "the mean BCE is 0.3095, you return 0.4095",
        ),
        (lambda probs, target: torch.tensor(math.nan), "the loss must be finite"),
    ],
)
def test_bce_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_bce, answer, expected, capsys)


# --- Exercise 2: stable BCE with logits -----------------------------------------------------


def stable(logits, target):
    return logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))


@pytest.mark.parametrize(
    "answer",
    [
        stable,
        lambda logits, target: F.binary_cross_entropy_with_logits(logits, target, reduction="none"),
        lambda logits, target: (1 - target) * logits - F.logsigmoid(logits),
        lambda logits, target: (
            torch.relu(logits) - logits * target + torch.log(1 + torch.exp(-logits.abs()))
        ),  # no log1p
        lambda logits, target: stable(logits.double(), target.double()),
    ],
)
def test_stable_bce_with_logits_accepts_right_answers(answer, capsys):
    assert_accepts(check_stable_bce_with_logits, answer, capsys, "±1000")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda logits, target: (
                -(target * torch.sigmoid(logits).log() + (1 - target) * (1 - torch.sigmoid(logits)).log())
            ),
            "log(sigmoid(z)) is log(0) = -inf",
        ),
        (
            lambda logits, target: F.binary_cross_entropy(torch.sigmoid(logits), target, reduction="none"),
            "BCELoss clamps each log at -100",
        ),
        (lambda logits, target: -logits * target + torch.log1p(torch.exp(-logits.abs())), "you forgot max(z, 0)"),
        (
            lambda logits, target: -logits * target + torch.log1p(torch.exp(logits)),
            "returns inf or nan at z = 200 and 1000: e^{z} (or e^{-z}) overflows",
        ),
        (
            lambda logits, target: (1 - target) * logits + torch.log1p(torch.exp(-logits)),
            "returns inf or nan at z = -200 and -1000",
        ),
        (
            lambda logits, target: logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits)),
            "you used e^{-z} where the stable form has e^{-|z|}",
        ),
        (lambda logits, target: -stable(logits, target), "you flipped the sign"),
        (lambda logits, target: stable(logits, 1 - target), "you swapped the roles of y and 1 - y"),
        (lambda logits, target: stable(logits, target).mean(), "returned shape (): return one loss per element"),
        (lambda logits, target: stable(logits, target) + 0.5, "at z = -2.5, y = 1 the loss is"),
        (lambda logits, target: stable(logits, target.round()), "at z = 0.5, q = 0.3 the loss is"),
    ],
)
def test_stable_bce_with_logits_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_stable_bce_with_logits, answer, expected, capsys)


# --- Exercise 3: pos_weight -------------------------------------------------------------------


def weighted(logits, target, pos_weight):
    return -(pos_weight * target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits))


def naive_weighted(logits, target, pos_weight):
    probs = torch.sigmoid(logits)
    return -(pos_weight * target * probs.log() + (1 - target) * (1 - probs).log())


@pytest.mark.parametrize(
    "answer",
    [
        weighted,
        lambda z, y, w: F.binary_cross_entropy_with_logits(z, y, pos_weight=w, reduction="none"),
        lambda z, y, w: (1 - y) * z + (1 + (w - 1) * y) * F.softplus(-z),
        lambda z, y, w: weighted(z, y, w[None, :]),
        lambda z, y, w: weighted(z.double(), y.double(), w.double()),
    ],
)
def test_weighted_bce_accepts_right_answers(answer, capsys):
    assert_accepts(check_weighted_bce, answer, capsys, "per class")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda z, y, w: F.binary_cross_entropy_with_logits(z, y, reduction="none"), "pos_weight has no effect"),
        (
            lambda z, y, w: -(y * F.logsigmoid(z) + w * (1 - y) * F.logsigmoid(-z)),
            "you put pos_weight on the negative term",
        ),
        (lambda z, y, w: w * F.binary_cross_entropy_with_logits(z, y, reduction="none"), "you multiplied both terms"),
        (
            lambda z, y, w: F.binary_cross_entropy_with_logits(z, y, weight=w, reduction="none"),
            "that is `weight`, not `pos_weight`",
        ),
        (lambda z, y, w: weighted(z, y, w[:, None]), "you applied pos_weight per row (per example), e.g. with"),
        (
            lambda z, y, w: w[:, None] * F.binary_cross_entropy_with_logits(z, y, reduction="none"),
            "you applied pos_weight per row (per example), to both terms",
        ),
        (naive_weighted, "log(1 - sigmoid(50)) is log(0) in float32"),
        (
            lambda z, y, w: F.binary_cross_entropy(torch.sigmoid(z), y, reduction="none") * (1 + (w - 1) * y),
            "gives 100 at z = 50, y = 0",
        ),
        (lambda z, y, w: weighted(z, y, w).sum(dim=1), "returned shape (3,): return one loss per element"),
        (lambda z, y, w: weighted(z, y, w) * 1.1, "pos_weight = 10 (class 2) the loss is 25.7889, you return 28.3678"),
        (lambda z, y, w: weighted(z, y, 1 / w), "you return 0.2579"),
    ],
)
def test_weighted_bce_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_weighted_bce, answer, expected, capsys)


# --- Exercise 4: the mean over the annotated labels ----------------------------------------------


def annotated(target):
    return target != MISSING


def masked_losses(logits, target):
    """(N, C) losses with the missing labels' set to 0, and the (N, C) float mask."""
    kept = annotated(target).to(logits.dtype)
    return F.binary_cross_entropy_with_logits(logits, target.clamp(min=0), reduction="none") * kept, kept


def sum_over_count(logits, target):
    losses, kept = masked_losses(logits, target)
    return losses.sum() / kept.sum()


@pytest.mark.parametrize(
    "answer",
    [
        sum_over_count,
        lambda logits, target: F.binary_cross_entropy_with_logits(logits[annotated(target)], target[annotated(target)]),
        lambda logits, target: F.binary_cross_entropy_with_logits(logits, target, reduction="none")[target >= 0].mean(),
        lambda logits, target: torch.nanmean(
            torch.where(target >= 0, F.binary_cross_entropy_with_logits(logits, target, reduction="none"), torch.nan)
        ),
        lambda logits, target: (
            F.binary_cross_entropy_with_logits(
                logits, target.clamp(min=0), weight=(target >= 0).float(), reduction="sum"
            )
            / (target >= 0).sum()
        ),
        lambda logits, target: (logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs())))[
            target != -1
        ].mean(),
        lambda logits, target: sum_over_count(logits.double(), target.double()),
    ],
)
def test_masked_bce_accepts_right_answers(answer, capsys):
    assert_accepts(check_masked_bce, answer, capsys, "annotated labels only", "±30")


def per_example(logits, target):
    losses, kept = masked_losses(logits, target)
    return losses.sum(dim=1) / kept.sum(dim=1)


def per_class(logits, target):
    losses, kept = masked_losses(logits, target)
    return losses.sum(dim=0) / kept.sum(dim=0)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda logits, target: F.binary_cross_entropy_with_logits(logits, target),
            "you kept the missing labels in the loss: BCEWithLogitsLoss does not check its target",
        ),
        (
            lambda logits, target: F.binary_cross_entropy_with_logits(logits, target.clamp(min=0)),
            "you counted the missing labels as negatives (y = 0)",
        ),
        (
            lambda logits, target: (
                F.binary_cross_entropy_with_logits(logits, target.clamp(min=0), reduction="sum") / (target >= 0).sum()
            ),
            "you divided by the number of annotated labels (7), but your sum still holds the missing elements, as y = 0",
        ),
        (
            lambda logits, target: (
                F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / (target >= 0).sum()
            ),
            "your sum still holds the missing elements, with y = -1",
        ),
        (
            lambda logits, target: masked_losses(logits, target)[0].mean(),
            "you zeroed the missing labels' losses but divided by all N·C = 12 elements",
        ),
        (
            lambda logits, target: F.binary_cross_entropy_with_logits(
                logits, target.clamp(min=0), weight=(target >= 0).float()
            ),
            "divides by their number, 7. (BCEWithLogitsLoss's weight=mask does the same",
        ),
        (lambda logits, target: masked_losses(logits, target)[0].sum(), "that is the sum of the annotated labels'"),
        (
            lambda logits, target: per_example(logits, target).mean(),
            "returns nan: you averaged each example's annotated labels first, and example 1 has none",
        ),
        (
            lambda logits, target: per_example(logits, target).nanmean(),
            "you averaged each example's annotated labels, then the examples",
        ),
        (lambda logits, target: per_class(logits, target).mean(), "you averaged each class's annotated labels"),
        (
            lambda logits, target: F.binary_cross_entropy_with_logits(logits[target == 1], target[target == 1]),
            "you kept only the positive labels (y = 1)",
        ),
        (
            lambda logits, target: F.binary_cross_entropy_with_logits(
                logits[target == -1], target.clamp(min=0)[target == -1]
            ),
            "your mask is the wrong way round",
        ),
        (
            lambda logits, target: F.binary_cross_entropy(torch.sigmoid(logits[target >= 0]), target[target >= 0]),
            "you went through the probabilities, and at z = 30, y = 0 sigmoid(z) rounds to 1",
        ),
        (
            lambda logits, target: (
                -(target * torch.sigmoid(logits).log() + (1 - target) * (1 - torch.sigmoid(logits)).log())[
                    target >= 0
                ].mean()
            ),
            "look for a log of 0",
        ),
        (lambda logits, target: per_example(logits, target), "returned shape (4,), one value per example"),
        (lambda logits, target: per_class(logits, target), "returned shape (3,), one value per class"),
        (lambda logits, target: masked_losses(logits, target)[0], "returned shape (4, 3), one loss per element"),
        (
            lambda logits, target: sum_over_count(logits, target).reshape(1),
            "returned shape (1,): return a single number (a 0-d tensor), the mean over the 7 annotated labels",
        ),
        (
            lambda logits, target: sum_over_count(logits, target) + 0.1,
            "the mean BCE over the 7 annotated labels is 0.8121, you return 0.9121",
        ),
        (
            lambda logits, target: sum_over_count(logits, target) * (1 + (logits.abs().max() > 20)),
            "the mean BCE over the 7 annotated labels is 12.7641, you return 25.5283",
        ),
    ],
)
def test_masked_bce_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_masked_bce, answer, expected, capsys)


def test_the_masked_batches_tell_the_mistakes_apart():
    """Every typical mistake gives a value of its own on each batch, none of them the right one: a checker whose
    candidates coincide would name the wrong mistake."""
    from losslab.exercises import binary

    for logits, target in (
        (binary.MASKED_LOGITS, binary.MASKED_TARGET),
        (binary.LARGE_MASKED_LOGITS, binary.LARGE_MASKED_TARGET),
    ):
        values = [binary._masked_mean(logits, target)] + [value for value, _ in binary._masked_mistakes(logits, target)]
        values = torch.stack([value.double() for value in values])
        gaps = (values[:, None] - values[None, :]).abs() + torch.eye(len(values), dtype=torch.float64)
        assert float(gaps.min()) > 1e-3
        assert int(annotated(target).sum()) == 7 and target.numel() == 12
