"""losslab.exercises.softmax: each check accepts right answers and names each typical mistake."""

import pytest
import torch

from losslab.exercises.softmax import check_logits_from_probabilities, check_stable_softmax, check_temperature


def run(check, answer, capsys):
    """The check's verdict and what it printed."""
    verdict = check(answer)
    return verdict, capsys.readouterr().out


def assert_names_the_mistake(check, answer, expected, capsys):
    """The check rejects `answer` with a "Not yet" verdict that contains `expected`."""
    verdict, out = run(check, answer, capsys)
    assert verdict is False
    assert out.startswith("Not yet: ")
    assert expected in out


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


def shifts_in_place(logits):
    logits -= logits.amax(dim=1, keepdim=True)
    exps = logits.exp()
    return exps / exps.sum(dim=1, keepdim=True)


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
    verdict, out = run(check_stable_softmax, answer, capsys)
    assert verdict is True
    assert out.startswith("Correct!") and "[1000, 0]" in out


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
        (shifts_in_place, "changed its input in place"),
        (unnormalised, "rows don't sum to 1 (they sum to"),
        (lambda logits: stable_softmax(logits).tolist(), "returned a list: return a torch.Tensor"),
        (lambda logits: stable_softmax(logits)[:, 0], "returned shape (3,) for an input of shape (3, 4)"),
        (lambda logits: stable_softmax(logits) * 0.9 + 0.1 / logits.shape[1], "row 2 is wrong: for the logits [-2, 4, 1, 1]"),
        (lambda logits: 1 / 0, "raised ZeroDivisionError"),
        (stable_softmax(torch.zeros(2, 2)), "pass your function itself"),
    ],
)
def test_stable_softmax_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_stable_softmax, answer, expected, capsys)


def test_stable_softmax_says_when_not_answered(capsys):
    def stable_softmax(logits):
        return None  # your code here

    verdict, out = run(check_stable_softmax, stable_softmax, capsys)
    assert verdict is False
    assert out == (
        "Not answered yet: stable_softmax returns None: replace `return None  # your code here` "
        "with your code, then run the cell again.\n"
    )


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
    verdict, out = run(check_temperature, answer, capsys)
    assert verdict is True
    assert out.startswith("Correct!") and "T = 0.01" in out


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda logits, temperature: torch.softmax(logits, dim=1), "you forgot to divide by the temperature"),
        (lambda logits, temperature: torch.softmax(logits - temperature, dim=1), "you forgot to divide by the temperature"),
        (lambda logits, temperature: torch.softmax(logits * temperature, dim=1), "you multiplied the logits by T"),
        (
            lambda logits, temperature: torch.softmax(logits, dim=1) / temperature,
            "apply the temperature to the logits, before the softmax",
        ),
        (
            lambda logits, temperature: torch.softmax(logits, dim=1) ** (1 / temperature),
            "apply the temperature to the logits, before the softmax",
        ),
        (lambda logits, temperature: torch.softmax(logits / temperature, dim=0), "you normalised over dim 0 (the batch)"),
        (lambda logits, temperature: naive_softmax(logits / temperature), "where z / T = [[1000, 0]]"),
        (lambda logits, temperature: naive_softmax(logits / temperature), "use a numerically stable softmax"),
        (lambda logits: torch.softmax(logits, dim=1), "raised TypeError"),
    ],
)
def test_temperature_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_temperature, answer, expected, capsys)


def test_temperature_says_when_not_answered(capsys):
    def softmax_with_temperature(logits, temperature):
        return None  # your code here

    verdict, out = run(check_temperature, softmax_with_temperature, capsys)
    assert verdict is False
    assert out.startswith("Not answered yet: softmax_with_temperature returns None")


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
    verdict, out = run(check_logits_from_probabilities, answer, capsys)
    assert verdict is True
    assert out.startswith("Correct!") and "softmax ignores shifts" in out


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


def test_logits_from_probabilities_says_when_not_answered(capsys):
    def logits_from_probabilities(probs):
        return None  # your code here

    verdict, out = run(check_logits_from_probabilities, logits_from_probabilities, capsys)
    assert verdict is False
    assert out.startswith("Not answered yet: logits_from_probabilities returns None")


# --- All checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("check", [check_stable_softmax, check_temperature, check_logits_from_probabilities])
def test_checks_never_print_negative_zero_or_raise(check, capsys):
    for answer in (lambda *args: torch.tensor([[-0.0, 0.0]]), lambda *args: "text", None, 3):
        assert check(answer) is False
    assert "-0.0000" not in capsys.readouterr().out
