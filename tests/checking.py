"""Helpers for the tests of the exercise checkers (`losslab.exercises`): run a check and read its verdict.

A check prints its verdict and returns True or False; these helpers capture both (with pytest's
`capsys`) and assert what a right answer, or a named mistake, must give.
"""


def run(check, answer, capsys):
    """The check's verdict and what it printed."""
    verdict = check(answer)
    return verdict, capsys.readouterr().out


def assert_accepts(check, answer, capsys, *praise):
    """The check accepts `answer` with a "Correct!" verdict that contains every fragment of `praise`."""
    verdict, out = run(check, answer, capsys)
    assert verdict is True, out
    assert out.startswith("Correct! "), out
    for fragment in praise:
        assert fragment in out, (fragment, out)


def assert_names_the_mistake(check, answer, expected, capsys):
    """The check rejects `answer` with a "Not yet" verdict that contains `expected`."""
    verdict, out = run(check, answer, capsys)
    assert verdict is False, out
    assert out.startswith("Not yet: "), out
    assert expected in out, out
