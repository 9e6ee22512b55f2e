"""Opened without a kernel (GitHub, nbviewer, an HTML export, JupyterLab before anything runs), every
notebook shows each widget's initial state, never an error message.

Two kinds of viewer, two fallbacks, both committed with the notebook's outputs:
- viewers that render widgets without a kernel (nbviewer, `jupyter nbconvert --to html`, JupyterLab)
  use the saved widget state: it must hold every model the widget's view needs, its chart's PNG included;
- viewers that cannot render widgets (GitHub) pick the richest other format of the output: each widget
  output also carries the chart as `image/png` and its controls and readout as `text/plain`.
Both must match what the explorer shows when the cell runs (the cell is run here, in this process).
The browser tests (test_browser.py) open each notebook in JupyterLab before running it, too.
"""

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from explorers import explorer_from_cell
from test_cpu_matrix import MATRIX

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ERROR_WORDS = re.compile(r"error|traceback|exception", re.IGNORECASE)


def widget_cells(nb):
    """(cell, output) for every output that shows a widget."""
    return [
        (cell, output)
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if WIDGET_VIEW in output.get("data", {})
    ]


def saved_state(nb):
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def models_needed(model_id, state):
    """model_id and every model its state refers to ("IPY_MODEL_<id>"), recursively."""
    needed, todo = set(), [model_id]
    while todo:
        current = todo.pop()
        if current in needed:
            continue
        needed.add(current)
        assert current in state, f"the saved widget state lacks model {current}"
        todo += re.findall(r"IPY_MODEL_([0-9a-f]+)", str(state[current]["state"]))
    return needed


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def nb(request):
    return nbformat.read(request.param, as_version=4)


def test_every_notebook_shows_a_widget(nb):
    assert widget_cells(nb), "no widget output"


def test_saved_state_holds_every_model_of_each_widget_and_its_picture(nb):
    state = saved_state(nb)
    for _, output in widget_cells(nb):
        models = models_needed(output.data[WIDGET_VIEW]["model_id"], state)
        images = [state[m] for m in models if state[m]["model_name"] == "ImageModel"]
        assert images, "the widget's chart (an Image) is not in its saved state"
        for image in images:
            buffers = {tuple(b["path"]): base64.b64decode(b["data"]) for b in image.get("buffers", [])}
            assert buffers.get(("value",), b"").startswith(PNG_SIGNATURE), "the chart's PNG is not saved"


def test_fallbacks_show_the_initial_state_for_viewers_without_widgets(nb):
    for cell, output in widget_cells(nb):
        explorer = explorer_from_cell(cell.source)
        png = base64.b64decode(output.data["image/png"])
        assert png.startswith(PNG_SIGNATURE)
        assert png == explorer.chart.png, "the image/png fallback is not the chart the explorer draws"
        text = output.data["text/plain"]
        assert text == explorer._repr_mimebundle_()["text/plain"]
        assert text.endswith("(run the notebook to use its controls)")
        for control in explorer.controls():
            assert control.description in text, f"the text fallback does not show {control.description!r}"
        assert not ERROR_WORDS.search(text), text


def test_the_fallbacks_hold_on_another_cpu():
    """The saved charts are the pictures on any CPU: the test above, in a process with numpy's, MKL's and
    torch's generic loops (numpy's log10 differs in its last bit between them, and a long stroked line can
    show that bit in its pixels)."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_fallbacks_show_the_initial_state_for_viewers_without_widgets",
        ],
        cwd=ROOT,
        env={**os.environ, **MATRIX[0]},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"with {MATRIX[0]}:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"


def test_html_export_renders_widgets_from_saved_state(nb):
    """nbconvert (and nbviewer, which uses it) embeds the state and renders each widget view from it."""
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    assert f'<script type="{WIDGET_STATE}">' in html
    for _, output in widget_cells(nb):
        assert f'"model_id": "{output.data[WIDGET_VIEW]["model_id"]}"' in html
    assert "Error displaying widget" not in html


def test_html_export_without_widget_state_shows_the_pictures(nb):
    """A viewer that cannot render widgets falls back to the image: what GitHub shows."""
    nb.metadata.pop("widgets", None)
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    for _, output in widget_cells(nb):
        assert f'src="data:image/png;base64,{output.data["image/png"].strip()}"' in html.replace("\n", "")
    assert WIDGET_VIEW not in html
