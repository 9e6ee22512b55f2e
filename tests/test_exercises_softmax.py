"""losslab.exercises.softmax: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import pytest
import torch

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.softmax import check_logits_from_probabilities, check_stable_softmax, check_temperature

# --- Exercise 1: stable softmax -------------------------------------------------------------


def stable_softmax(logits):
    shifted = logits - logits.amax(dim=1, keepdim=True)
    exps = shifted.exp()
    return exps / exps.sum(dim=1, keepdim=True)


def naive_softmax(logits):
    exps = logits.exp()
    return exps / exps.sum(dim=1, keepdim=True)


def softmax_over_batch(logits):
    shifted = logits - logits.amax(dim=0, keepdim=True)
    exps = shifted.exp()
    return exps / exps.sum(dim=0, keepdim=True)


def column_max_shift(logits):
    exps = (logits - logits.amax(dim=0, keepdim=True)).exp()
    return exps / exps.sum(dim=1, keepdim=True)


def global_max_shift(logits):
    exps = (logits - logits.max()).exp()
    return exps / exps.sum(dim=1, keepdim=True)


def sum_without_keepdim(logits):
    exps = (logits - logits.amax(dim=1, keepdim=True)).exp()
    return exps / exps.sum(dim=1)


def unnormalised(logits):
    return (logits - logits.amax(dim=1, keepdim=True)).exp()


@pytest.mark.parametrize(
    "answer",
    [
        stable_softmax,
        lambda logits: torch.softmax(logits, dim=1),
        lambda logits: torch.softmax(logits, dim=-1),
        lambda logits: torch.log_softmax(logits.double(), dim=1).exp(),
    ],
)
def test_stable_softmax_accepts_right_answers(answer, capsys):
    assert_accepts(check_stable_softmax, answer, capsys, "[1000, 0]")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (naive_softmax, "returns [[nan, 0.0000]] for the logits [[1000, 0]]: exp(1000) overflows to inf"),
        (naive_softmax, "Subtract the row maximum before exp."),
        (softmax_over_batch, "you normalised over dim 0 (the batch) instead of dim 1 (the classes)"),
        (lambda logits: torch.softmax(logits, dim=0), "rows don't sum to 1, columns do"),
        (column_max_shift, "you subtracted each column's maximum (dim 0)"),
        (global_max_shift, "you subtracted the maximum of the whole batch (1000)"),
        (global_max_shift, "logits.amax(dim=1, keepdim=True)"),
        (sum_without_keepdim, "raised RuntimeError"),
        (sum_without_keepdim, "use keepdim=True"),
        (unnormalised, "rows don't sum to 1 (they sum to"),
        (lambda logits: stable_softmax(logits)[:, 0], "returned shape (3,) for an input of shape (3, 4)"),
        (
            lambda logits: stable_softmax(logits) * 0.9 + 0.1 / logits.shape[1],
            "row 2 is wrong: for the logits [-2, 4, 1, 1]",
        ),
    ],
)
def test_stable_softmax_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_stable_softmax, answer, expected, capsys)


# --- Exercise 2: temperature ----------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        lambda logits, temperature: torch.softmax(logits / temperature, dim=1),
        lambda logits, temperature: stable_softmax(logits / temperature),
        lambda logits, temperature: stable_softmax(logits * (1 / temperature) + 3.0),
    ],
)
def test_temperature_accepts_right_answers(answer, capsys):
    assert_accepts(check_temperature, answer, capsys, "T = 0.01")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda logits, temperature: torch.softmax(logits, dim=1), "you forgot to divide by the temperature"),
        (
            lambda logits, temperature: torch.softmax(logits - temperature, dim=1),
            "you forgot to divide by the temperature",
        ),
        (lambda logits, temperature: torch.softmax(logits * temperature, dim=1), "you multiplied the logits by T"),
        (
            lambda logits, temperature: torch.softmax(logits, dim=1) / temperature,
            "apply the temperature to the logits, before the softmax",
        ),
        (
            lambda logits, temperature: torch.softmax(logits, dim=1) ** (1 / temperature),
            "apply the temperature to the logits, before the softmax",
        ),
        (
            lambda logits, temperature: torch.softmax(logits / temperature, dim=0),
            "you normalised over dim 0 (the batch)",
        ),
        (lambda logits, temperature: naive_softmax(logits / temperature), "where z / T = [[1000, 0]]"),
        (lambda logits, temperature: naive_softmax(logits / temperature), "use a numerically stable softmax"),
    ],
)
def test_temperature_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_temperature, answer, expected, capsys)


# --- Exercise 3: logits from probabilities ---------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        torch.log,
        lambda probs: probs.log() + 5.0,
        lambda probs: probs.log() - probs.log().amax(dim=1, keepdim=True),
        lambda probs: probs.double().log(),
    ],
)
def test_logits_from_probabilities_accepts_right_answers(answer, capsys):
    assert_accepts(check_logits_from_probabilities, answer, capsys, "softmax ignores shifts")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda probs: probs, "you returned the probabilities themselves"),
        (lambda probs: probs.clone(), "softmax(p) is not p: softmax([0.70, 0.20, 0.10]) = [0.4640, 0.2814, 0.2546]"),
        (lambda probs: torch.log_softmax(probs, dim=1), "you returned the probabilities themselves"),
        (lambda probs: -probs.log(), "the sign is flipped"),
        (torch.exp, "exp goes the wrong way"),
        (torch.logit, "log(p / (1 - p)) is the logit of a two-class problem"),
        (torch.log2, "you took the log in base 2"),
        (torch.log10, "you took the log in base 10"),
        (lambda probs: probs.log()[:, :2], "returned shape (3, 2) for an input of shape (3, 3)"),
        (lambda probs: (probs - 0.5).log(), "every logit must be finite"),
        (lambda probs: probs.log().T, "row 1: softmax of your logits"),
    ],
)
def test_logits_from_probabilities_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_logits_from_probabilities, answer, expected, capsys)
