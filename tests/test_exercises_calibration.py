"""losslab.exercises.calibration: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.calibration import (
    check_confidence_and_accuracy,
    check_ece_from_bins,
    check_nll_temperature_slope,
    check_scaled_nll,
)

# --- Exercise 1 -------------------------------------------------------------------------------------------


def confidence_and_accuracy(logits, target):
    confidence, prediction = torch.softmax(logits, dim=1).max(dim=1)
    return torch.stack([confidence.mean(), (prediction == target).double().mean()])


def test_confidence_and_accuracy(capsys):
    assert_accepts(check_confidence_and_accuracy, confidence_and_accuracy, capsys, "0.7121", "0.6667")

    def from_logits(logits, target):
        return torch.stack([logits.max(dim=1).values.mean(), (logits.argmax(1) == target).double().mean()])

    def of_the_true_class(logits, target):
        probs = torch.softmax(logits, dim=1)
        true = probs[torch.arange(len(target)), target]
        return torch.stack([true.mean(), (probs.argmax(1) == target).double().mean()])

    def swapped(logits, target):
        return confidence_and_accuracy(logits, target).flip(0)

    assert_names_the_mistake(check_confidence_and_accuracy, from_logits, "largest *logit*", capsys)
    assert_names_the_mistake(check_confidence_and_accuracy, of_the_true_class, "*true* class", capsys)
    assert_names_the_mistake(check_confidence_and_accuracy, swapped, "swapped", capsys)
    assert_names_the_mistake(
        check_confidence_and_accuracy,
        lambda logits, target: confidence_and_accuracy(logits, target)[:1],
        "shape (1,)",
        capsys,
    )


# --- Exercise 2 -------------------------------------------------------------------------------------------


def ece_from_bins(counts, accuracy, confidence):
    return (counts.double() / counts.sum() * (accuracy - confidence).abs()).sum()


def test_ece_from_bins(capsys):
    assert_accepts(check_ece_from_bins, ece_from_bins, capsys, "0.0745")

    def filled_only(counts, accuracy, confidence):
        filled = counts > 0
        return (counts[filled].double() / counts.sum() * (accuracy - confidence)[filled].abs()).sum()

    assert_accepts(check_ece_from_bins, filled_only, capsys)
    mistakes = {
        "the empty one too": lambda n, a, c: (a - c).abs().mean(),
        "equal weights": lambda n, a, c: (a - c)[n > 0].abs().mean(),
        "cancel": lambda n, a, c: (n.double() / n.sum() * (a - c)).sum().abs(),
        "without dividing by N": lambda n, a, c: (n.double() * (a - c).abs()).sum(),
        "number of bins": lambda n, a, c: ece_from_bins(n, a, c) / len(n),
        "divide by N = counts.sum()": lambda n, a, c: (((a - c).abs()) * n / n).sum(),
    }
    for expected, answer in mistakes.items():
        assert_names_the_mistake(check_ece_from_bins, answer, expected, capsys)


# --- Exercise 3 -------------------------------------------------------------------------------------------


def scaled_nll(logits, target, temperature):
    return F.cross_entropy(logits / temperature, target)


def test_scaled_nll(capsys):
    assert_accepts(check_scaled_nll, scaled_nll, capsys, "0.7138", "0.7227")
    mistakes = {
        "multiplied the logits by T": lambda z, y, t: F.cross_entropy(z * t, y),
        "double softmax": lambda z, y, t: F.cross_entropy(torch.softmax(z / t, dim=1), y),
        "the sum": lambda z, y, t: F.cross_entropy(z / t, y, reduction="sum"),
        "did not change anything": lambda z, y, t: F.cross_entropy(z, y),
        "divided the loss by T": lambda z, y, t: F.cross_entropy(z, y) / t,
    }
    for expected, answer in mistakes.items():
        assert_names_the_mistake(check_scaled_nll, answer, expected, capsys)
    assert_names_the_mistake(
        check_scaled_nll, lambda z, y, t: F.cross_entropy(z / t, y, reduction="none"), "shape (6,)", capsys
    )


# --- Exercise 4 -------------------------------------------------------------------------------------------


def slope_by_formula(logits, target, temperature):
    probs = torch.softmax(logits / temperature, dim=1)
    beta_slope = ((probs * logits).sum(dim=1) - logits[torch.arange(len(target)), target]).mean()
    return -beta_slope / temperature**2


def slope_by_autograd(logits, target, temperature):
    t = temperature.clone().requires_grad_()
    (slope,) = torch.autograd.grad(F.cross_entropy(logits / t, target), t)
    return slope


def test_nll_temperature_slope(capsys):
    assert_accepts(check_nll_temperature_slope, slope_by_formula, capsys, "0.1002")
    assert_accepts(check_nll_temperature_slope, slope_by_autograd, capsys)
    mistakes = {  # beta_slope = -T^2 * dNLL/dT
        "derivative in beta = 1 / T": lambda z, y, t: -slope_by_formula(z, y, t) * t**2,
        "not by 1 / T^2": lambda z, y, t: slope_by_formula(z, y, t) * t**2,
        "sign is flipped": lambda z, y, t: -slope_by_formula(z, y, t),
        "-1 / T^2, not -1 / T": lambda z, y, t: slope_by_formula(z, y, t) * t,
    }
    for expected, answer in mistakes.items():
        assert_names_the_mistake(check_nll_temperature_slope, answer, expected, capsys)
    assert_names_the_mistake(
        check_nll_temperature_slope, lambda z, y, t: slope_by_formula(z, y, t) * 3, "the slope dNLL/dT is", capsys
    )
