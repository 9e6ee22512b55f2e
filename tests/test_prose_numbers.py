"""A number quoted in a notebook's prose is one its code prints.

Convention: prose quotes a computed number in inline code, e.g. "the loss is `0.7437`". Every such
number must appear in an output of the same notebook, so prose and outputs cannot drift apart.
Numbers inside LaTeX ($...$) are mathematics, not quoted outputs, and are not checked.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
QUOTED_NUMBER = re.compile(r"`(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)`")


def quoted_numbers(markdown_text):
    return QUOTED_NUMBER.findall(markdown_text)


def printed_text(nb):
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def appears_in(number, text):
    """True if `number` stands in `text` as a whole number (not as part of a longer one)."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text) is not None


def test_quoted_number_convention():
    assert quoted_numbers("the loss is `0.7437`, not `0`; `x = 1`") == ["0.7437", "0"]
    assert appears_in("0.7437", "loss 0.7437\n") and not appears_in("0.74", "loss 0.7437")
    assert not appears_in("437", "0.7437")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_quoted_number_is_printed(path):
    nb = nbformat.read(path, as_version=4)
    printed = printed_text(nb)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    missing = [n for n in quoted_numbers(prose) if not appears_in(n, printed)]
    assert not missing, f"{path.name}: prose quotes numbers no output prints: {missing}"
