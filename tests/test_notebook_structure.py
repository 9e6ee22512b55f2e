"""Every notebook is a complete lesson, committed with the outputs of one clean run."""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IGNORE_OUTPUT = "nbval-ignore-output"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def load(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def tags(cell):
    return cell.metadata.get("tags", [])


def markdown(nb):
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def output_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_notebooks_exist_and_are_numbered_in_order():
    assert NOTEBOOKS, "no notebooks found"
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1))
    for path in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def nb(request):
    return load(request.param)


def test_outputs_come_from_one_clean_run(nb):
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), "re-run with `make execute` (execution counts must be 1..n)"


def test_no_error_output_unless_tagged(nb):
    for cell in code_cells(nb):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors:
            assert "raises-exception" in tags(cell), f"untagged error {errors[0].ename} in:\n{cell.source}"


def test_title_objectives_exercises_summary(nb):
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "the first cell is the title"
    headings = [line.lstrip("#").strip().lower() for line in markdown(nb).splitlines() if line.startswith("## ")]
    for section in ("learning objectives", "exercises", "summary"):
        assert any(h.startswith(section) for h in headings), f"missing a '## {section.title()}' section"
    assert re.search(r"builds on", "\n".join(c.source for c in nb.cells[:3]), re.I), "say what it builds on"


def test_first_code_cell_prints_versions(nb):
    first = code_cells(nb)[0]
    assert "setup()" in first.source
    printed = output_text(first)
    for package in ("python", "torch", "numpy", "matplotlib", "ipywidgets"):
        assert re.search(rf"{package} \d+\.\d+\.\d+", printed), f"first cell must print the {package} version"


def test_only_widget_cells_skip_output_comparison(nb):
    for cell in code_cells(nb):
        if IGNORE_OUTPUT in tags(cell) or cell.source.startswith("# NBVAL_IGNORE_OUTPUT"):
            assert any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs), (
                f"only cells whose output lives in a widget may skip nbval's comparison:\n{cell.source}"
            )
        assert "nbval-skip" not in tags(cell), "every cell runs under nbval"


def test_has_a_widget_and_checked_exercises(nb):
    assert any(WIDGET_VIEW in o.get("data", {}) for c in code_cells(nb) for o in c.outputs), "no widget shown"
    checks = re.findall(r"\bcheck_\w+\(", "\n".join(c.source for c in code_cells(nb)))
    assert len(set(checks)) >= 4, "at least four exercises with check_... functions (one that transfers)"


def test_the_prose_names_only_notebooks_that_exist(nb):
    """A lesson points only to notebooks that exist ("notebook 04", "04 Gradients"), never to later ones."""
    numbers = {int(path.name[:2]) for path in NOTEBOOKS}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for found in re.findall(r"\b[Nn]otebooks? (\d\d)\b|\*\*Next, (\d\d)\b", cell.source):
            number = int(next(n for n in found if n))
            assert number in numbers, f"the prose names notebook {number:02d}, which does not exist"
        assert "beyond the basics" not in cell.source.lower(), "no pointers to notebooks that are not there"


def test_no_output_depends_on_the_folder_it_was_made_in(nb):
    """Tracebacks are short (setup() sets IPython's minimal mode) and nothing prints a path: the same
    notebook executed in another checkout is the same file."""
    for index, cell in enumerate(code_cells(nb)):
        text = json.dumps(cell.get("outputs", []))
        for marker in (str(ROOT), "site-packages", "/.venv/", "/tmp/"):
            assert marker not in text, f"code cell {index}: an output holds the path {marker!r}"


def test_no_volatile_metadata(nb):
    assert "version" not in nb.metadata.get("language_info", {}), "Python patch version would churn"
    for cell in code_cells(nb):
        assert "execution" not in cell.metadata, "per-cell timestamps churn: execute with record_timing=False"


def test_outputs_print_no_raw_float_reprs(nb):
    """Numbers are printed rounded: a float with 8+ decimals means a raw repr slipped through."""
    for cell in code_cells(nb):
        if IGNORE_OUTPUT in tags(cell):
            continue
        raw = re.findall(r"\d\.\d{8,}", output_text(cell))
        assert not raw, f"raw float repr {raw[0]} in the output of:\n{cell.source}"


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README's notebook table lacks {path.name}"
