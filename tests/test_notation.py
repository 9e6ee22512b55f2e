"""One notation for the whole course (the table in notebooks/losslab/notation.md): notebook 01 introduces
it, every later notebook repeats it, collapsed, at its top, and no notebook uses a letter in a retired
meaning (p is always the model, q a target distribution, ℓ a loss, never a log-probability)."""

import re
from pathlib import Path

import nbformat
import pytest

from sync_notation import NOTEBOOKS, collapsed_box, notation_cells, table

ROOT = Path(__file__).resolve().parents[1]

# (pattern, what the course writes instead). Matched in markdown and in code (comments, printed labels).
RETIRED = [
    (r"H\(\s*p\s*,\s*q\s*\)", "H(q, p): the cross-entropy takes the target q first, the model p second"),
    (r"KL\}?\s*\(\s*p\s*(?:\\,)?\s*(?:\\\||\|\||\\Vert|‖)", "KL(q ‖ p): q is the target, p the model"),
    (r"H\(\s*e_y\s*,\s*q\s*\)", "H(e_y, p): the model's distribution is p"),
    (r"-\s*\\?log\s*\(?q(?![a-z])", "-log p_y: the model's probabilities are p, q is a target"),
    (r"q_\{?\\text\{(?:target|model)", "p_y for the model's probability of the true class"),
    (r"\\ell\s*=\s*\\log|\\ell_\{\s*n\s*,\s*c\s*\}", "log p for log-probabilities: ℓ is a loss"),
    (r"(?m)^\s*q\s*=\s*(?:torch\.|F\.)?softmax", "probs (or p) for the model's probabilities in code"),
]


def outside_the_box(cell):
    return "notation" not in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_shows_the_notation_box(path):
    nb = nbformat.read(path, as_version=4)
    cells = notation_cells(nb)
    assert len(cells) == 1, f"{path.name}: one cell tagged 'notation' (run tests/sync_notation.py)"
    if path.name.startswith("01_"):
        assert table() in cells[0].source, "01's notation section must hold notation.md's table (sync_notation.py)"
        assert "<details>" not in cells[0].source, "01 introduces the notation: shown open, not collapsed"
    else:
        assert nb.cells[1] is cells[0], "the collapsed notation box is the cell right after the title"
        assert cells[0].source == collapsed_box(), "out of date: run .venv/bin/python tests/sync_notation.py"


def test_the_box_names_every_symbol_once():
    symbols = [row.split("|")[1].strip() for row in table().splitlines()[2:]]
    for symbol in ("$z$", "$p = \\mathrm{softmax}(z)$", "$y$", "$q$", "$L$"):
        assert symbol in symbols, f"the notation box lacks {symbol}"
    assert any(s.startswith("$\\ell$") for s in symbols), "the notation box names the per-sample loss"
    assert len(symbols) == len(set(symbols))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_retired_usage(path):
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if not outside_the_box(cell):
            continue
        for pattern, instead in RETIRED:
            for match in re.finditer(pattern, cell.source):
                found.append(f"cell {index}: {match.group(0)!r} -> {instead}")
    assert not found, f"{path.name} uses retired notation:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "$H(p, q) = -\\sum_i p_i \\log q_i$",
        "$\\mathrm{KL}(p \\,\\|\\, q)$",
        'print("KL(p || q) =", kl)',
        "the loss is $-\\log q_y$",
        "$\\ell_{n,c} = \\log q_{n,c}$",
        "q = torch.softmax(logits, dim=1)",
        "$H(e_y, q)$",
    ],
)
def test_the_retired_patterns_catch_the_old_notation(text):
    assert any(re.search(pattern, text) for pattern, _ in RETIRED), text


@pytest.mark.parametrize(
    "text",
    [
        "$H(q, p) = -\\sum_c q_c \\log p_c$",
        "$\\mathrm{KL}(q \\,\\|\\, p)$",
        "the loss is $-\\log p_y$",
        "$H(q) = -\\sum_c q_c \\log q_c$",
        "probs = torch.softmax(logits, dim=1)",
        "target_probs = smoothed(q)",
    ],
)
def test_the_course_notation_passes(text):
    assert not any(re.search(pattern, text) for pattern, _ in RETIRED), text
