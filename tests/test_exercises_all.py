"""Every checker in losslab.exercises: what each must do alike, whatever its exercise.

Found automatically (every public `check_...` function of a `losslab.exercises` module), so a new
checker is covered without being listed here: it is a @self_check; the stub (`return None  # your
code here`) is "Not answered yet"; a non-callable, an answer that raises, one that returns no tensor
and one that changes any of its tensor inputs in place are refused, saying so; and no odd answer makes
it raise or print "-0.0000". What is right or wrong for one exercise is tested in its own
test_exercises_<module>.py.
"""

import importlib
import inspect
import math
import pkgutil
import sys

import pytest
import torch

import losslab.exercises
from checking import assert_names_the_mistake, run
from losslab.exercises._checking import self_check

# Checkers whose learner's function takes numbers, not tensors (nothing it could change in place), and
# returns a number (a float is an answer, not a mistake).
NUMBER_CHECKS = {"check_optimal_gap"}


def exercise_modules():
    """Every public module of losslab.exercises, sorted by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(losslab.exercises.__path__))
    return [importlib.import_module(f"losslab.exercises.{name}") for name in names if not name.startswith("_")]


def checks_in(module):
    return [
        function
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if name.startswith("check_") and function.__module__ == module.__name__
    ]


MODULES = exercise_modules()
CHECKS = [check for module in MODULES for check in checks_in(module)]
each_check = pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)


def documented_call(check):
    """(name, number of arguments) of the learner's function, as the check's docstring opens: `name(a, b (N, C))`."""
    doc = inspect.getdoc(check)
    name, _, rest = doc.partition("(")
    depth, arguments = 0, 1
    for character in rest:
        if character == ")" and depth == 0:
            break
        depth += {"(": 1, ")": -1}.get(character, 0)
        arguments += character == "," and depth == 0
    return name, arguments


def first_call(check, capsys):
    """The arguments the check gives the learner's function first (the check stops there: it returns None)."""
    calls = []

    def records(*args):
        calls.append(args)

    check(records)
    capsys.readouterr()
    assert len(calls) == 1
    return calls[0]


def module_tensors(check):
    """Copies of the tensors the check's module holds (alone or in tuples/lists), by name."""
    found = {}
    for name, value in vars(sys.modules[check.__module__]).items():
        values = value if isinstance(value, (tuple, list)) else [value]
        for i, item in enumerate(values):
            if isinstance(item, torch.Tensor):
                found[name, i] = item.clone()
    return found


def test_every_exercise_module_has_checks():
    assert MODULES, "no modules found in losslab.exercises"
    for module in MODULES:
        assert checks_in(module), f"{module.__name__} has no check_... function"
    assert NUMBER_CHECKS <= {check.__name__ for check in CHECKS}


@each_check
def test_is_a_self_check_documenting_the_learners_function(check):
    assert check.__code__ is self_check(lambda answer: None).__code__, "decorate it with @self_check"
    (parameter,) = inspect.signature(check).parameters  # the learner's function, named as in the notebook
    name, arguments = documented_call(check)
    assert name == parameter and arguments >= 1


@each_check
def test_the_stub_is_not_answered_yet(check, capsys):
    name, arguments = documented_call(check)

    def stub(*args):
        if len(args) != arguments:  # as Python would for the stub the notebook gives, with its parameters
            raise TypeError(f"{name}() takes {arguments} positional arguments but {len(args)} were given")
        return None  # your code here

    stub.__name__ = name
    verdict, out = run(check, stub, capsys)
    assert verdict is False
    assert out == (
        f"Not answered yet: {name} returns None: replace `return None  # your code here` with your code, "
        "then run the cell again.\n"
    )


@each_check
@pytest.mark.parametrize("answer", [None, 3, 3.7, "answer", torch.zeros(2, 2)], ids=repr)
def test_refuses_what_is_not_a_function(check, answer, capsys):
    expected = f"pass your function itself (its name, without calling it), not a {type(answer).__name__}"
    assert_names_the_mistake(check, answer, expected, capsys)


@each_check
def test_reports_an_answer_that_raises_with_its_exception(check, capsys):
    def my_answer(*args):
        raise ValueError("a message of its own")

    assert_names_the_mistake(check, my_answer, "my_answer raised ValueError: a message of its own", capsys)
    assert_names_the_mistake(check, lambda *args: 1 / 0, "raised ZeroDivisionError: division by zero", capsys)

    def too_few_parameters():
        return None

    assert_names_the_mistake(check, too_few_parameters, "too_few_parameters raised TypeError: ", capsys)
    assert_names_the_mistake(check, too_few_parameters, "too_few_parameters() takes 0 positional arguments", capsys)

    def too_many_parameters(a, b, c, d, e, f, g, h):
        return a

    assert_names_the_mistake(check, too_many_parameters, "too_many_parameters raised TypeError: ", capsys)
    assert_names_the_mistake(check, too_many_parameters, "missing", capsys)


@each_check
@pytest.mark.parametrize("result", [[0.5, 0.25], "0.5", 0.5], ids=lambda result: type(result).__name__)
def test_refuses_an_answer_that_returns_no_tensor(check, result, capsys):
    kind = type(result).__name__
    if check.__name__ in NUMBER_CHECKS and isinstance(result, float):  # a number: judged by its value
        verdict, out = run(check, lambda *args: result, capsys)
        assert verdict is False and out.startswith("Not yet: ") and "returned a" not in out, out
    elif check.__name__ in NUMBER_CHECKS:
        assert_names_the_mistake(check, lambda *args: result, f"returned a {kind}: return one number", capsys)
    else:
        assert_names_the_mistake(check, lambda *args: result, f"returned a {kind}: return a torch.Tensor", capsys)


@each_check
def test_refuses_an_answer_that_changes_any_tensor_input_in_place(check, capsys):
    """For each tensor argument in turn: an answer that changes it in place and returns a tensor computed
    from it is refused, every time (the check's own inputs stay intact)."""
    args = first_call(check, capsys)
    positions = [i for i, arg in enumerate(args) if isinstance(arg, torch.Tensor)]
    if check.__name__ in NUMBER_CHECKS:
        assert not positions and all(isinstance(arg, (int, float)) for arg in args), args
        return
    assert positions, f"{check.__name__} gives its learner's function no tensor"
    originals = module_tensors(check)
    for position in positions:
        changed = []

        def changes_its_input(*args, position=position, changed=changed):
            tensor = args[position]
            before = tensor.clone()
            if tensor.dtype == torch.bool:
                tensor.logical_not_()
            else:
                tensor.add_(1)
            changed.append(not torch.equal(tensor, before))
            return tensor * 2

        for _ in range(2):
            assert_names_the_mistake(check, changes_its_input, "changed its input in place", capsys)
        assert changed == [True, True], "the answer did not change the tensor: this test tests nothing"
    for key, original in module_tensors(check).items():
        torch.testing.assert_close(original, originals[key], rtol=0, atol=0, equal_nan=True, msg=str(key))


def negative_zeros_like_the_first_tensor(*args):
    tensors = [arg for arg in args if isinstance(arg, torch.Tensor)]
    return -torch.zeros_like(tensors[0] if tensors else torch.as_tensor(args[0]))


ODD_ANSWERS = [
    lambda *args: torch.tensor(-0.0),
    lambda *args: -0.0,
    lambda *args: torch.tensor([-0.0, 0.0, -0.0]),
    lambda *args: torch.tensor([[-0.0, 0.0]]),
    lambda *args: -torch.zeros_like(args[0]),
    negative_zeros_like_the_first_tensor,
    lambda *args: torch.zeros(3),
    lambda *args: torch.zeros(3, dtype=torch.long),
    lambda *args: torch.tensor(math.nan),
    lambda *args: torch.tensor(math.inf),
    lambda *args: "text",
    None,
    3,
]


@each_check
def test_odd_answers_are_refused_without_raising_or_printing_negative_zero(check, capsys):
    for i, answer in enumerate(ODD_ANSWERS):
        assert check(answer) is False, i
        out = capsys.readouterr().out
        assert out.startswith(("Not yet: ", "Not answered yet: ")), out
        assert "-0.0000" not in out, out
