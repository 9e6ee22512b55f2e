"""The course's notation box: one source (`notebooks/losslab/notation.md`), shown in every notebook.

Notebook 01 introduces it in a section of its own (the cell tagged "notation", which holds the table
verbatim); every later notebook repeats it, collapsed, as its second cell (tagged "notation" too).
`tests/test_notation.py` requires both; after editing notation.md, run

    .venv/bin/python tests/sync_notation.py

to write the table into every notebook (then `make execute` is not needed: no output changes).
"""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTATION_FILE = ROOT / "notebooks" / "losslab" / "notation.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TAG = "notation"
SUMMARY = "<summary><b>Notation</b>: the same symbols in every notebook (click to open)</summary>"
# In a lecture the box is one slide of its own, right after the title.
CELL_METADATA = {"tags": [TAG], "lecture": "core", "slideshow": {"slide_type": "subslide"}}


def table():
    return NOTATION_FILE.read_text(encoding="utf-8").strip()


def collapsed_box():
    """The markdown of the collapsed box of notebooks 02 on (GitHub, JupyterLab and the slides all honour
    <details>; the blank lines let the table inside render as Markdown)."""
    return f"<details>\n{SUMMARY}\n\n{table()}\n\n</details>"


def notation_cells(nb):
    return [cell for cell in nb.cells if TAG in cell.metadata.get("tags", [])]


def synced(nb, first_notebook):
    """`nb` with its notation box up to date: in 01 the table inside the tagged cell is replaced (the cell
    must exist, with the table between a line "<!-- notation -->" and "<!-- /notation -->"); in the
    others the collapsed box is the second cell, inserted if missing."""
    cells = notation_cells(nb)
    if first_notebook:
        if len(cells) != 1:
            raise SystemExit("notebook 01 needs exactly one cell tagged 'notation' (its notation section)")
        start, end = "<!-- notation -->", "<!-- /notation -->"
        before, _, rest = cells[0].source.partition(start)
        _, _, after = rest.partition(end)
        cells[0].source = f"{before}{start}\n{table()}\n{end}{after}"
        return nb
    if not cells:
        cell = nbformat.v4.new_markdown_cell(collapsed_box(), metadata=CELL_METADATA)
        nb.cells.insert(1, cell)
    else:
        cells[0].source = collapsed_box()
    return nb


def main(paths):
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        after = nbformat.writes(synced(nb, path.name.startswith("01_")))
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"updated the notation box of {path.name}")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or NOTEBOOKS)
