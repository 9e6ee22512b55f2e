"""The checks of the graded exercises, in the nbgrader course that `make assignments` builds.

In a lesson notebook a check prints its verdict and never raises, so that a notebook with unanswered
exercises still runs top to bottom. nbgrader's autograder gives a test cell its points unless the cell
raises (or writes to stderr), so a check that only prints would give full marks to any answer.
`graded(check, answer)` prints the same verdict and, while nbgrader runs the notebook (it sets
NBGRADER_EXECUTION to "autograde" or "validate"), raises an AssertionError carrying that verdict for an
answer the check does not accept, an unanswered one included. While a learner works through the
released notebook nothing raises: it runs top to bottom, as the lesson does.
"""

import contextlib
import io
import os


def graded(check, answer):
    """Run check(answer), print its verdict; under nbgrader, raise AssertionError(verdict) unless correct."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        correct = check(answer)
    verdict = printed.getvalue()
    print(verdict, end="")
    if not correct and os.environ.get("NBGRADER_EXECUTION"):
        raise AssertionError(verdict.strip())
    # Returns None on purpose: nbgrader would read a returned number as a partial score.
