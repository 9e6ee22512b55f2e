"""losslab.exercises.label_smoothing: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.label_smoothing import (
    check_alpha_for_confidence,
    check_optimal_gap,
    check_smooth,
    check_smoothed_ce,
)

# --- Exercise 1: smooth ------------------------------------------------------------------------


def one_hot(target, num_classes):
    return F.one_hot(target, num_classes).float()


def smooth(target, num_classes, alpha):
    return (1 - alpha) * one_hot(target, num_classes) + alpha / num_classes


def smooth_with_scatter(target, num_classes, alpha):
    q = torch.full((len(target), num_classes), alpha / num_classes, dtype=torch.float64)
    return q.scatter_add(1, target[:, None], torch.full((len(target), 1), 1 - alpha, dtype=torch.float64))


def variant(target, num_classes, alpha):
    hot = one_hot(target, num_classes)
    return (1 - alpha) * hot + (1 - hot) * alpha / (num_classes - 1)


def target_without_its_share(target, num_classes, alpha):
    hot = one_hot(target, num_classes)
    return (1 - alpha) * hot + (1 - hot) * alpha / num_classes


def swapped(target, num_classes, alpha):
    return alpha * one_hot(target, num_classes) + (1 - alpha) / num_classes


def classes_from_batch(target, num_classes, alpha):
    return smooth(target, int(target.max()) + 1, alpha)


@pytest.mark.parametrize(
    "answer",
    [
        smooth,
        smooth_with_scatter,
        lambda target, num_classes, alpha: torch.lerp(
            one_hot(target, num_classes), torch.full((num_classes,), 1 / num_classes), alpha
        ),
    ],
)
def test_smooth_accepts_right_answers(answer, capsys):
    assert_accepts(check_smooth, answer, capsys, "alpha = 1 the uniform one")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (variant, "you put 1 - alpha on the target and alpha / (C - 1) on every other class"),
        (variant, "PyTorch's with alpha' = alpha C / (C - 1)"),
        (target_without_its_share, "the true class gets only 1 - alpha"),
        (swapped, "alpha and 1 - alpha are swapped"),
        (lambda target, num_classes, alpha: one_hot(target, num_classes), "no smoothing happened"),
        (
            lambda target, num_classes, alpha: one_hot(target, num_classes) + alpha / num_classes,
            "each row sums to 1 + alpha",
        ),
        (lambda target, num_classes, alpha: one_hot(target, num_classes) * (1 - alpha), "each row sums to 1 - alpha"),
        (
            lambda target, num_classes, alpha: one_hot(target, num_classes) * (1 - alpha) + alpha,
            "each row sums to 1 + (C - 1) alpha",
        ),
        (
            lambda target, num_classes, alpha: smooth(target, num_classes, alpha) * 1.1,
            "the rows sum to [1.1000, 1.1000",
        ),
        (
            lambda target, num_classes, alpha: smooth(target, num_classes, alpha) / 0.9,
            "not 1: a smoothed target is a distribution",
        ),
        (classes_from_batch, "you took the number of classes from the targets (max + 1)"),
        (
            lambda target, num_classes, alpha: smooth(target.flip(0), num_classes, alpha),
            "row 0 has its largest entry at class 2, but its target is 0",
        ),
        (
            lambda target, num_classes, alpha: smooth(target, num_classes, alpha).T,
            "returned shape (4, 5) for 5 targets",
        ),
        (lambda target, num_classes, alpha: smooth(target, num_classes, alpha)[:, 0], "return shape (5, 4)"),
        (lambda target, num_classes, alpha: (smooth(target, num_classes, alpha) * 100).long(), "return floats"),
        (
            lambda target, num_classes, alpha: smooth(target, num_classes, 0.1),
            "at alpha = 0.4, row 0 (target 0) should be [0.7000, 0.1000, 0.1000, 0.1000], you return [0.9250, 0.0250",
        ),
    ],
)
def test_smooth_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_smooth, answer, expected, capsys)


# --- Exercise 2: smoothed_ce -------------------------------------------------------------------


def smoothed_ce(logits, target, alpha):
    log_probs = torch.log_softmax(logits, dim=1)
    ce = -log_probs[torch.arange(len(target)), target]
    return ((1 - alpha) * ce - alpha * log_probs.mean(dim=1)).mean()


def with_q(logits, target, alpha, q_fn=smooth, log_probs_fn=lambda x: torch.log_softmax(x, dim=1)):
    q = q_fn(target, logits.shape[1], alpha)
    return -(q * log_probs_fn(logits)).sum(dim=1).mean()


def parts(logits, target):
    log_probs = torch.log_softmax(logits, dim=1)
    return F.cross_entropy(logits, target), log_probs


@pytest.mark.parametrize(
    "answer",
    [
        smoothed_ce,
        with_q,
        lambda logits, target, alpha: F.cross_entropy(logits, target, label_smoothing=alpha),
        lambda logits, target, alpha: F.cross_entropy(logits.double(), smooth(target, logits.shape[1], alpha).double()),
    ],
)
def test_smoothed_ce_accepts_right_answers(answer, capsys):
    assert_accepts(check_smoothed_ce, answer, capsys, "alpha = 0.2 and 0.7")


def summed_uniform(logits, target, alpha):
    ce, log_probs = parts(logits, target)
    return (1 - alpha) * ce + alpha * (-log_probs.sum(dim=1)).mean()


def without_one_minus_alpha(logits, target, alpha):
    ce, log_probs = parts(logits, target)
    return ce + alpha * (-log_probs.mean(dim=1)).mean()


def alpha_swapped(logits, target, alpha):
    ce, log_probs = parts(logits, target)
    return alpha * ce + (1 - alpha) * (-log_probs.mean(dim=1)).mean()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (summed_uniform, "you summed -log p_c over the classes instead of averaging it"),
        (without_one_minus_alpha, "you forgot the factor (1 - alpha) on the cross-entropy term"),
        (alpha_swapped, "alpha and 1 - alpha are swapped"),
        (
            lambda logits, target, alpha: (
                -(smooth(target, logits.shape[1], alpha) * torch.log_softmax(logits, dim=1)).mean()
            ),
            "you averaged over the classes as well as over the batch",
        ),
        (
            lambda logits, target, alpha: with_q(
                logits, target, alpha, log_probs_fn=lambda x: torch.log_softmax(x, dim=0)
            ),
            "your log-softmax runs over dim 0 (the batch)",
        ),
        (
            lambda logits, target, alpha: F.cross_entropy(torch.softmax(logits, dim=1), target, label_smoothing=alpha),
            "you used probabilities as logits (a double softmax)",
        ),
        (
            lambda logits, target, alpha: with_q(
                logits, target, alpha, log_probs_fn=lambda x: torch.log_softmax(torch.softmax(x, dim=1), dim=1)
            ),
            "you used probabilities as logits (a double softmax)",
        ),
        (
            lambda logits, target, alpha: with_q(logits, target, alpha, log_probs_fn=lambda x: x),
            "you used the logits as log-probabilities",
        ),
        (lambda logits, target, alpha: with_q(logits, target, alpha, q_fn=variant), "alpha / (C - 1) elsewhere"),
        (lambda logits, target, alpha: F.cross_entropy(logits, target), "you return the plain cross-entropy"),
        (
            lambda logits, target, alpha: F.cross_entropy(logits, target, label_smoothing=alpha, reduction="sum"),
            "you return the sum over the 5 samples: return their mean",
        ),
        (
            lambda logits, target, alpha: F.cross_entropy(logits, target, label_smoothing=alpha, reduction="none"),
            "returned 5 losses, one per sample: return their mean",
        ),
        (
            lambda logits, target, alpha: F.cross_entropy(logits, target, label_smoothing=alpha).reshape(1),
            "returned shape (1,): return the mean loss over the batch, a 0-d tensor",
        ),
        (lambda logits, target, alpha: torch.tensor(1), "a loss is a real number, return a float tensor"),
        (
            lambda logits, target, alpha: F.cross_entropy(logits, target, label_smoothing=alpha) + 0.01,
            "at alpha = 0.2 the loss is 0.9594 (F.cross_entropy(logits, target, label_smoothing=0.2)), you return 0.9694",
        ),
    ],
)
def test_smoothed_ce_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_smoothed_ce, answer, expected, capsys)


# --- Exercise 3: optimal_gap -------------------------------------------------------------------


def optimal_gap(alpha, num_classes):
    return math.log((1 - alpha + alpha / num_classes) / (alpha / num_classes))


def q_parts(alpha, num_classes):
    return 1 - alpha + alpha / num_classes, alpha / num_classes


@pytest.mark.parametrize(
    "answer",
    [
        optimal_gap,
        lambda alpha, num_classes: torch.log(torch.tensor((1 - alpha) * num_classes / alpha + 1)),
        lambda alpha, num_classes: np.log1p((1 - alpha) * num_classes / alpha),
        lambda alpha, num_classes: torch.tensor([optimal_gap(alpha, num_classes)]),
        lambda alpha, num_classes: round(optimal_gap(alpha, num_classes), 7),
    ],
)
def test_optimal_gap_accepts_right_answers(answer, capsys):
    assert_accepts(check_optimal_gap, answer, capsys, "3.8286 at alpha = 0.1, C = 5")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda alpha, c: math.log((1 - alpha) / (alpha / c)), "you took log((1 - alpha) / (alpha / C))"),
        (lambda alpha, c: math.log((1 - alpha) / alpha), "log((1 - alpha) / alpha) compares the one-hot's weight"),
        (lambda alpha, c: math.log((1 - alpha) * (c - 1) / alpha), "that is the gap of the a/(C - 1) variant"),
        (
            lambda alpha, c: math.log(q_parts(alpha, c)[0] / alpha),
            "you are off by log C: you divided by alpha instead of alpha / C",
        ),
        (
            lambda alpha, c: optimal_gap(alpha, c) + math.log(c),
            "you are off by log C: the target of each other class is alpha / C",
        ),
        (lambda alpha, c: q_parts(alpha, c)[0], "you returned q_true = 1 - alpha + alpha / C, the optimal probability"),
        (lambda alpha, c: q_parts(alpha, c)[0] / q_parts(alpha, c)[1], "you returned the ratio q_true / q_other"),
        (lambda alpha, c: math.log10(q_parts(alpha, c)[0] / q_parts(alpha, c)[1]), "you took the log in base 10"),
        (lambda alpha, c: -optimal_gap(alpha, c), "the sign is flipped"),
        (
            lambda alpha, c: optimal_gap(alpha, c) * 1.1,
            "at alpha = 0.1, C = 5 the optimal gap is 3.8286, you return 4.2115",
        ),
        (lambda alpha, c: math.nan, "the optimal gap is 3.8286, you return nan"),
        (
            lambda alpha, c: optimal_gap(alpha, c) if alpha < 1 else 0.5,
            "at alpha = 1, C = 10 the optimal gap is 0.0000, you return 0.5000",
        ),
        (lambda alpha, c: torch.tensor([1.0, 2.0]), "returned a Tensor: return one number"),
        (lambda alpha, c: 1j, "returned a complex: return one number"),
    ],
)
def test_optimal_gap_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_optimal_gap, answer, expected, capsys)


def test_the_wrong_gaps_are_all_different_at_the_first_setting():
    """Each named mistake must be told apart at alpha = 0.1, C = 5, where the checker tries them first."""
    from losslab.exercises.label_smoothing import _gap_variants

    values = [value for value, _ in _gap_variants(0.1, 5)] + [optimal_gap(0.1, 5)]
    assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1 :]) > 1e-3


# --- Exercise 4: alpha_for_confidence ----------------------------------------------------------


def alpha_for_confidence(confidence, num_classes):
    return (1 - confidence) * num_classes / (num_classes - 1)


@pytest.mark.parametrize(
    "answer",
    [
        alpha_for_confidence,
        lambda confidence, c: (1 - confidence) / (1 - 1 / c),
        lambda confidence, c: torch.clamp((1 - confidence) * c / (c - 1), 0, 1),
        lambda confidence, c: ((1 - confidence) * c / (c - 1)).float(),
        lambda confidence, c: torch.tensor([(1 - float(p)) * c / (c - 1) for p in confidence]),
    ],
)
def test_alpha_for_confidence_accepts_right_answers(answer, capsys):
    assert_accepts(check_alpha_for_confidence, answer, capsys, "alpha = (1 - confidence) * C / (C - 1)", "0.1250")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda p, c: 1 - p, "you solved 1 - alpha = confidence, which forgets the share alpha / C"),
        (lambda p, c: 1 - p, "the alpha of the alpha / (C - 1) variant"),
        (lambda p, c: (1 - p) * (c - 1) / c, "the factor is upside down"),
        (lambda p, c: (1 - p) * c, "you set alpha / C = 1 - confidence"),
        (lambda p, c: (1 - p) / (c - 1), "you returned q_other = (1 - confidence) / (C - 1)"),
        (lambda p, c: p * c / (c - 1), "you used the confidence where its complement belongs"),
        (lambda p, c: (p - 1) * c / (c - 1), "the sign is flipped"),
        (lambda p, c: torch.log(p * (c - 1) / (1 - p)), "you returned the optimal logit gap"),
        (lambda p, c: 2 * (1 - p), "you used the binary form alpha / 2 with its 2 classes; here there are C = 4"),
        (
            lambda p, c: alpha_for_confidence(p, len(p)),
            "you took the number of classes from len(confidence) = 5",
        ),
        (
            lambda p, c: alpha_for_confidence(p, c) + 0.01,
            "for the confidences [0.9250, 0.8500, 0.6250, 0.2500, 1.0000] with C = 4 the smoothing is "
            "[0.1000, 0.2000, 0.5000, 1.0000, 0.0000], you return [0.1100",
        ),
        (
            lambda p, c: alpha_for_confidence(p, c) if c != 10 else p * 0,
            "with C = 10 the smoothing is [0.1000], you return [0.0000]",
        ),
        (lambda p, c: alpha_for_confidence(p, c).sum(), "returned shape () for 5 confidences: return one alpha"),
        (lambda p, c: alpha_for_confidence(p, c)[None], "return one alpha per confidence, shape (5,)"),
        (lambda p, c: (alpha_for_confidence(p, c) * 100).long(), "alpha is a fraction, return floats"),
        (lambda p, c: 0.1, "returned a float: return a torch.Tensor"),
    ],
)
def test_alpha_for_confidence_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_alpha_for_confidence, answer, expected, capsys)


def test_the_named_alpha_mistakes_differ_from_the_answer_and_each_other_in_the_first_case():
    """In the first case (C = 4, five confidences) each mistake gives its own alphas, none the right ones."""
    from losslab.exercises.label_smoothing import CONFIDENCE_CASES, _alpha_mistakes

    confidence, c = CONFIDENCE_CASES[0]
    candidates = [alpha_for_confidence(confidence, c)] + [value for value, _ in _alpha_mistakes(confidence, c)]
    assert len(candidates) == 10
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            assert not torch.allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_the_right_alpha_gives_the_confidence_at_the_optimum():
    """At the optimal gap of the alpha the checker expects, softmax gives the true class the confidence."""
    from losslab.label_smoothing import optimal_logit_gap

    for confidence, c in [(0.9, 5), (0.95, 2), (0.5, 10)]:
        alpha = alpha_for_confidence(confidence, c)
        logits = torch.zeros(c, dtype=torch.float64)
        logits[0] = optimal_logit_gap(alpha, c)
        assert torch.softmax(logits, dim=0)[0].item() == pytest.approx(confidence, rel=1e-12)
