"""What every exercise checker shares: verdicts that print instead of raising, safe calls of the
learner's function, and number formatting that gives the same text on every machine.

A checker is a function decorated with @self_check that returns praise, or raises NotAnswered or
Wrong with a sentence saying what exactly is wrong and how to fix it.
"""

import functools

import torch

from .._format import fmt  # noqa: F401 (the checkers format their numbers with it)

TOLERANCE = 1e-6


class NotAnswered(Exception):
    pass


class Wrong(Exception):
    pass


def self_check(check):
    """Turn a check that returns praise or raises NotAnswered / Wrong into one that prints
    its verdict and returns True / False (and never raises)."""

    @functools.wraps(check)
    def run(answer):
        try:
            praise = check(answer)
        except NotAnswered as reason:
            print(f"Not answered yet: {reason}")
            return False
        except Wrong as reason:
            print(f"Not yet: {reason}")
            return False
        print(f"Correct! {praise}")
        return True

    return run


def call_answer(function, *args):
    """The learner's result for args, or a NotAnswered / Wrong saying why there is none."""
    if not callable(function):
        raise Wrong(f"pass your function itself (its name, without calling it), not a {type(function).__name__}")
    name = getattr(function, "__name__", "your function")
    copies = [arg.clone() if isinstance(arg, torch.Tensor) else arg for arg in args]
    try:
        result = function(*copies)
    except Exception as error:
        hint = ""
        if "must match the size of tensor" in str(error):
            hint = (
                " (a sum or max over dim 1 without keepdim=True has shape (N,), which does not broadcast "
                "against (N, C): use keepdim=True)"
            )
        raise Wrong(f"{name} raised {type(error).__name__}: {error}{hint}") from None
    if result is None:
        raise NotAnswered(
            f"{name} returns None: replace `return None  # your code here` with your code, then run the cell again."
        )
    if not isinstance(result, torch.Tensor):
        raise Wrong(f"{name} returned a {type(result).__name__}: return a torch.Tensor")
    for original, copy in zip(args, copies, strict=True):
        if isinstance(original, torch.Tensor) and not torch.equal(original, copy):
            raise Wrong(
                f"{name} changed its input in place (e.g. `logits -= ...`), so the caller's tensor is changed: "
                "compute a new tensor instead (e.g. `shifted = logits - ...`)"
            )
    return result


def answer_name(function):
    """The learner's function's name, for the verdict."""
    return getattr(function, "__name__", "your function")


def close(result, expected, tolerance=TOLERANCE, rtol=0.0, equal_nan=False):
    """Same shape and values, compared in float64 (a nan matches only with equal_nan)."""
    return result.shape == expected.shape and bool(
        torch.allclose(result.double(), expected.double(), rtol=rtol, atol=tolerance, equal_nan=equal_nan)
    )


def first_match(result, candidates, tolerance=TOLERANCE, rtol=0.0, equal_nan=False):
    """The message of the first (wrong value, message) candidate that result equals, or None: how a
    checker names a typical mistake, by computing it and comparing."""
    for value, message in candidates:
        if close(result, value, tolerance, rtol, equal_nan):
            return message
    return None


def raise_first_match(result, candidates, tolerance=TOLERANCE, rtol=0.0, equal_nan=False):
    """Raise Wrong naming the first typical mistake (see first_match) that result equals, if any."""
    message = first_match(result, candidates, tolerance, rtol, equal_nan)
    if message:
        raise Wrong(message)
