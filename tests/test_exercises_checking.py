"""The machinery every exercise checker shares."""

import pytest
import torch

from losslab.exercises._checking import NotAnswered, Wrong, call_answer, close, fmt, self_check


@self_check
def check_positive(answer):
    if answer is None:
        raise NotAnswered("fill in the blank")
    if answer <= 0:
        raise Wrong("the answer must be positive")
    return "well done"


@pytest.mark.parametrize(
    ("answer", "verdict", "printed"),
    [(None, False, "Not answered yet: fill in the blank"), (-1, False, "Not yet: the answer must be positive"),
     (2, True, "Correct! well done")],
)
def test_self_check_prints_a_verdict_and_never_raises(answer, verdict, printed, capsys):
    assert check_positive(answer) is verdict
    assert capsys.readouterr().out == printed + "\n"


def test_fmt_gives_fixed_decimals_and_no_negative_zero():
    assert fmt(torch.tensor([[0.5, -1e-9], [2.0, -0.25]])) == "[[0.5000, 0.0000], [2.0000, -0.2500]]"
    assert fmt(torch.tensor(3.14159), ".2f") == "3.14"


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
