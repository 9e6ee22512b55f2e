"""The machinery every exercise checker shares."""

import pytest
import torch

from losslab.exercises._checking import (
    NotAnswered,
    Wrong,
    answer_name,
    call_answer,
    close,
    first_match,
    self_check,
)


@self_check
def check_positive(answer):
    if answer is None:
        raise NotAnswered("fill in the blank")
    if answer <= 0:
        raise Wrong("the answer must be positive")
    return "well done"


@pytest.mark.parametrize(
    ("answer", "verdict", "printed"),
    [
        (None, False, "Not answered yet: fill in the blank"),
        (-1, False, "Not yet: the answer must be positive"),
        (2, True, "Correct! well done"),
    ],
)
def test_self_check_prints_a_verdict_and_never_raises(answer, verdict, printed, capsys):
    assert check_positive(answer) is verdict
    assert capsys.readouterr().out == printed + "\n"


def test_call_answer_reports_blank_crash_wrong_type_and_in_place_change():
    x = torch.tensor([1.0, 2.0])
    with pytest.raises(NotAnswered, match="returns None"):
        call_answer(lambda t: None, x)
    with pytest.raises(Wrong, match="raised ZeroDivisionError"):
        call_answer(lambda t: 1 / 0, x)
    with pytest.raises(Wrong, match="return a torch.Tensor"):
        call_answer(lambda t: [1.0], x)
    with pytest.raises(Wrong, match="in place"):
        call_answer(lambda t: t.sub_(1), x)
    with pytest.raises(Wrong, match="pass your function itself"):
        call_answer(42, x)
    assert torch.equal(x, torch.tensor([1.0, 2.0])), "the learner's function only ever sees a copy"
    assert torch.equal(call_answer(lambda t: t * 2, x), torch.tensor([2.0, 4.0]))


def test_close_needs_same_shape_and_tolerance():
    a = torch.tensor([1.0, 2.0])
    assert close(a, a + 5e-7) and not close(a, a + 1e-5) and not close(a, a[None])
    assert close(a, a + 1e-5, tolerance=1e-4)
    assert close(a, a * (1 + 1e-5), tolerance=0.0, rtol=1e-4) and not close(a, a * (1 + 1e-3), tolerance=0.0, rtol=1e-4)
    assert not close(a, torch.tensor([1.0, float("nan")]), tolerance=1.0)


def test_first_match_names_the_first_mistake_the_answer_equals():
    a = torch.tensor([1.0, 2.0])
    candidates = [(-a, "forgot the minus sign"), (a / 2, "divided by 2"), (a / 2, "halved")]
    assert first_match(a / 2, candidates) == "divided by 2"
    assert first_match(a * 3, candidates) is None
    assert first_match(a * (1 + 1e-5), [(a, "same")], tolerance=0.0, rtol=1e-4) == "same"


def test_answer_name():
    def my_softmax(x):
        return x

    assert answer_name(my_softmax) == "my_softmax"
    assert answer_name(object()) == "your function"
