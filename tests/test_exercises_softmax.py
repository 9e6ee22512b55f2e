"""losslab.exercises.softmax: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import math

import pytest
import torch

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.softmax import (
    check_logits_from_probabilities,
    check_masked_softmax,
    check_stable_softmax,
    check_temperature,
)

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


# --- Exercise 4: masked softmax ---------------------------------------------------------------


def masked_softmax(logits, allowed):
    masked_logits = logits.masked_fill(~allowed, -math.inf)
    return torch.softmax(masked_logits, dim=1).masked_fill(~allowed, 0.0)


def masked_softmax_by_hand(logits, allowed):
    row_max = torch.where(allowed, logits, -math.inf).amax(dim=1, keepdim=True)  # -inf in a row with no class
    exps = torch.where(allowed, (logits - row_max).exp(), 0.0)
    return exps / exps.sum(dim=1, keepdim=True).clamp(min=1.0)  # the sum is >= 1 unless the row allows no class


def fill_then_softmax(fill):
    def answer(logits, allowed):
        return torch.softmax(logits.masked_fill(~allowed, fill), dim=1)

    return answer


def naive_masked_softmax(logits, allowed):
    exps = logits.masked_fill(~allowed, -math.inf).exp()
    return exps / exps.sum(dim=1, keepdim=True)


def overflow_guard_only(logits, allowed):
    masked_logits = logits.masked_fill(~allowed, -math.inf)
    exps = (masked_logits - masked_logits.amax(dim=1, keepdim=True).clamp(min=0.0)).exp()  # shifts down, never up
    return exps / exps.sum(dim=1, keepdim=True)


def max_over_all_classes(logits, allowed):
    exps = (logits - logits.amax(dim=1, keepdim=True)).exp() * allowed  # the maximum includes disallowed classes
    return exps / exps.sum(dim=1, keepdim=True)


def mask_after_softmax(logits, allowed):
    return torch.softmax(logits, dim=1) * allowed


def renormalise_after_softmax(logits, allowed):
    probs = torch.softmax(logits, dim=1) * allowed
    return probs / probs.sum(dim=1, keepdim=True)


def in_place(logits, allowed):
    logits.masked_fill_(~allowed, -math.inf)
    return torch.softmax(logits, dim=1).masked_fill(~allowed, 0.0)


@pytest.mark.parametrize(
    "answer",
    [
        masked_softmax,
        masked_softmax_by_hand,
        lambda logits, allowed: fill_then_softmax(-math.inf)(logits, allowed).nan_to_num(0.0),
        lambda logits, allowed: torch.where(allowed, fill_then_softmax(-1e9)(logits, allowed), 0.0),
        lambda logits, allowed: torch.softmax(logits + allowed.log(), dim=1).nan_to_num(0.0),  # the additive mask
        lambda logits, allowed: torch._safe_softmax(logits.masked_fill(~allowed, -math.inf), 1),
        lambda logits, allowed: masked_softmax(logits.double(), allowed),
    ],
)
def test_masked_softmax_accepts_right_answers(answer, capsys):
    assert_accepts(check_masked_softmax, answer, capsys, "exactly 0", "returns zeros for a row with no allowed class")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda logits, allowed: torch.softmax(logits, dim=1), "you ignored the mask"),
        (mask_after_softmax, "you set the disallowed probabilities to 0 after the softmax and did not renormalise"),
        (renormalise_after_softmax, "returns [[nan, nan, nan]] for the logits [[0, -1, 1000]]"),
        (
            renormalise_after_softmax,
            "Mask the logits first (fill the disallowed ones with -inf), then take the softmax",
        ),
        (
            lambda logits, allowed: (
                mask_after_softmax(logits, allowed)
                / mask_after_softmax(logits, allowed).sum(dim=1, keepdim=True).clamp(min=1e-12)
            ),
            "masking the probabilities after the softmax loses them",
        ),
        (fill_then_softmax(-1e4), "class 2 of row 0 is not allowed, but answer gives it probability 1.0000"),
        (fill_then_softmax(-1e4), "a finite value such as -1e4 is above these allowed logits (-30000)"),
        (
            lambda logits, allowed: torch.where(allowed, fill_then_softmax(-1e4)(logits, allowed), 0.0),
            "is above them (-30000), so the softmax gives the disallowed class all the probability",
        ),
        (max_over_all_classes, "If the softmax you take, or the maximum you subtract, includes it"),
        (fill_then_softmax(0.0), "you set the disallowed logits to 0 (as logits * allowed does)"),
        (lambda logits, allowed: torch.softmax(logits * allowed, dim=1), "a logit of 0 is an ordinary score"),
        (lambda logits, allowed: masked_softmax(logits, ~allowed), "you masked the allowed classes instead"),
        (naive_masked_softmax, "for the logits [[1000, 999, 0]]"),
        (naive_masked_softmax, "exp(1000) overflows to inf"),
        (
            overflow_guard_only,  # fine at 1000, not at -30000
            "every exp underflows to 0 and 0 / 0 = nan",
        ),
        (fill_then_softmax(-math.inf), "row 1 of the logits [[1, 2, 3], [4, 5, 6]]"),
        (fill_then_softmax(-math.inf), "returns [nan, nan, nan] there: a softmax of a row of -inf logits is nan"),
        (fill_then_softmax(torch.finfo(torch.float32).min), "so its softmax is uniform (1/C each)"),
        (fill_then_softmax(torch.finfo(torch.float32).min), "The exercise asks for zeros in such a row"),
        (lambda logits, allowed: masked_softmax(logits, allowed) * 0.5, "must sum to 1; <lambda>'s sum to [0.5000"),
        (
            lambda logits, allowed: torch.softmax(logits.masked_fill(~allowed, -math.inf), dim=0),
            "you normalised over dim 0 (the batch) instead of dim 1",
        ),
        (
            lambda logits, allowed: masked_softmax(logits / 2, allowed),
            "row 0 is wrong: for the logits [2, 1, 0.1, -1] with allowed = [True, True, False, True]",
        ),
        (
            lambda logits, allowed: masked_softmax(logits, allowed)[:, :2],
            "returned shape (3, 2) for an input of shape (3, 4)",
        ),
        (in_place, "changed its input in place"),
    ],
)
def test_masked_softmax_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_masked_softmax, answer, expected, capsys)
