"""The behaviour table of docs/torch-versions.md: one test per row, run under every torch release the
course is verified on (`make test` under 2.13.0, `make test-torch` under 2.14.1).

Each row says what torch does with an input before and from a release; its test checks that the installed
torch does what the row says for its version, and that losslab does the same, with a helpful message. A
row without a test, or a test without a row, fails `test_every_row_has_a_test`.
"""

import builtins
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import losslab
from strategies import assert_helpful

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "torch-versions.md"
INSTALLED = tuple(int(part) for part in torch.__version__.split(".")[:2])


def table_rows():
    """(since, function, input, before, from then on) for every row of the table, as written."""
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 5 and re.fullmatch(r"\d+\.\d+", cells[0]):
            rows.append(tuple(cells))
    return rows


def row_key(row):
    since, function, input_, *_ = row
    return since, function.strip("`").removeprefix("F."), input_


def expected(row):
    """The behaviour the row gives for the installed torch: its "before" or its "from then on" cell."""
    since = tuple(int(part) for part in row[0].split("."))
    return row[4] if INSTALLED >= since else row[3]


def error_type(behaviour):
    """The exception a table cell names first ("NotImplementedError: ..."), as a class."""
    return getattr(builtins, re.match(r"`?(\w+Error)", behaviour).group(1))


LOGITS = torch.tensor([[0.2, -1.5, 3.0], [0.0, 2.5, -0.5]], dtype=torch.float64)
LABELS = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]], dtype=torch.float64)

# One check per row, keyed as the row is: (since, function, input). Each returns the call to make on a module
# (torch.nn.functional or losslab) and the word losslab's message must contain.
CHECKS = {
    ("2.14", "binary_cross_entropy_with_logits", "a bool target"): (
        lambda m: m.binary_cross_entropy_with_logits(LOGITS, LABELS.bool()),
        "bool",
    ),
}


def test_the_table_exists_and_has_rows():
    assert table_rows(), f"no rows found in {TABLE.relative_to(ROOT)}"


def test_every_row_has_a_test():
    assert {row_key(row) for row in table_rows()} == set(CHECKS)


@pytest.mark.parametrize("row", table_rows(), ids=lambda row: f"{row[1]}: {row[2]} (since {row[0]})")
def test_torch_and_losslab_behave_as_the_row_says_for_this_version(row):
    call, problem = CHECKS[row_key(row)]
    behaviour = expected(row)
    error = error_type(behaviour)
    with pytest.raises(Exception) as raised_by_torch:
        call(F)
    assert type(raised_by_torch.value) is error, (
        f"torch {torch.__version__} raised {type(raised_by_torch.value).__name__}: {raised_by_torch.value}; "
        f"the table says {behaviour}"
    )
    with pytest.raises(error, match=problem) as raised_by_losslab:
        call(losslab)
    assert type(raised_by_losslab.value) is error
    assert_helpful(raised_by_losslab.value)
