"""Every notebook's widgets in a real JupyterLab, in Chromium, used the way a person uses them.

For each notebook (found, not listed), in a copy of notebooks/ served by a JupyterLab this module
starts: as opened fresh from disk (untrusted), each widget output shows its chart as a picture; once
trusted, the saved widgets render from the notebook's saved widget state before anything runs; after
"Run All" every code cell has run, no cell shows an error unless tagged raises-exception, and the
widgets render again from the live kernel; then every control is moved several times (typed into a
slider's readout, a button clicked, an option selected), and after each change the readout must
show what the same explorer, built in this process from the cell's source and set the same way,
shows. The time from each input to the readout's change is measured in the page and reported in the
terminal summary (see conftest.py), for the course's configuration (jupyter-config/: TCP_NODELAY on
kernel websockets, the kernel status indicator in the status bar) and for a stock JupyterLab: the
target, reported and not asserted, is a median <= 20 ms with the course's configuration. Screenshots go to a temporary folder the summary names.
"""

import contextlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import pytest
from playwright.sync_api import expect

from browser import (
    LAB_SETTINGS,
    WIDGET_MIME,
    cell_output,
    change_control,
    code_cells,
    css_class,
    fallback_picture,
    image_loaded,
    open_notebook,
    run_all,
    screenshot,
    shows_widget_error,
    trust_notebook,
)
from explorers import explorer_from_cell
from losslab.widgets.toolkit import plain_text
from servers import ROOT, jupyter_server

pytestmark = pytest.mark.browser

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
# Server configuration -> changes per control: every check runs on both; the stock server is there to
# measure what the course's configuration saves, so fewer changes suffice.
CONFIGS = {"course config": (True, 6), "stock": (False, 3)}
VIEWPORT = {"width": 1400, "height": 1000}


class Lab(NamedTuple):
    config: str  # a key of CONFIGS
    changes: int  # per control
    server: object  # servers.RunningServer
    root: Path  # the copy of notebooks/ it serves


@pytest.fixture(scope="module", params=list(CONFIGS), ids=lambda config: config.replace(" ", "-"))
def lab(request, tmp_path_factory):
    """A JupyterLab over a fresh copy of notebooks/, with the course's server configuration or stock."""
    course_config, changes = CONFIGS[request.param]
    root = tmp_path_factory.mktemp("notebooks") / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    with jupyter_server(root, app="lab", course_config=course_config, lab_settings=LAB_SETTINGS) as server:
        yield Lab(request.param, changes, server, root)


@pytest.fixture(scope="session")
def screenshots(browser_report):
    folder = Path(tempfile.mkdtemp(prefix="losslab-screenshots-"))
    browser_report["screenshots"] = folder
    return folder


@pytest.fixture
def page(chromium, lab):
    """A fresh page; afterwards the page is closed and the server's kernels are shut down."""
    context = chromium.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()
    for session in lab.server.api("api/sessions"):
        lab.server.api(f"api/sessions/{session['id']}", "DELETE")


def widget_cells(notebook):
    """[(cell index, source, saved readout text)] for every cell with a saved widget output."""
    saved = json.loads(notebook.read_text())
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    found = []
    for index, cell in enumerate(saved["cells"]):
        for output in cell.get("outputs", []):
            if WIDGET_MIME in output.get("data", {}):
                readout = saved_readout(state, output["data"][WIDGET_MIME]["model_id"])
                found.append((index, "".join(cell["source"]), readout))
    return found


def saved_readout(state, model_id):
    """The text of the "losslab-readout" HTML widget inside the saved widget `model_id`."""
    model = state[model_id]["state"]
    if "losslab-readout" in model.get("_dom_classes", []):
        return plain_text(model["value"])
    children = [child.removeprefix("IPY_MODEL_") for child in model.get("children", [])]
    texts = [saved_readout(state, child) for child in children]
    return next((text for text in texts if text is not None), None)


def check_widget_renders(page, cell_index, expected_readout, live):
    """The widget output of cell `cell_index` shows `expected_readout` and its chart, from the kernel
    (`live`) or from the saved widget state (its views then say they are disconnected)."""
    output = cell_output(page, cell_index)
    expect(output.locator(".losslab-readout")).to_have_text(expected_readout, timeout=30_000)
    image = output.locator("img").first
    expect(image).to_be_visible()
    assert image_loaded(image), "the chart image did not load"
    disconnected = output.locator(".jupyter-widgets-disconnected").count()
    if live:
        assert not disconnected, "after Run All the widget still has views without a kernel"
    else:
        assert disconnected, "before anything ran, the widget's views should come from saved state, without a kernel"
    assert not shows_widget_error(page)
    return output


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_widget_renders_and_follows_its_controls(lab, page, notebook, screenshots, browser_report):
    shot = f"{lab.config.replace(' ', '-')}-{notebook.stem}"
    cells = widget_cells(lab.root / notebook.name)
    assert cells, f"{notebook.name} has no saved widget output"
    try:
        open_notebook(page, lab.server.url, notebook.name)
        for index, _, _ in cells:  # as cloned: untrusted, so JupyterLab shows the output's picture
            picture = fallback_picture(page, index)
            expect(picture).to_be_visible()
            assert image_loaded(picture), "the widget's fallback picture did not load"
            assert not shows_widget_error(page)
            screenshot(picture, screenshots / f"{shot}-{index}-untrusted.png")
        trust_notebook(page)
        for index, _, saved_text in cells:
            assert saved_text is not None, f"the saved widget of cell {index} has no losslab-readout"
            output = check_widget_renders(page, index, saved_text, live=False)
            screenshot(output, screenshots / f"{shot}-{index}-saved.png")

        run_all(page)
        code = code_cells(page)
        failed = [cell for cell in code if cell["errors"] and "raises-exception" not in cell["tags"]]
        assert not failed, f"cells with errors: {failed}"
        not_run = [cell["index"] for cell in code if cell["executionCount"] is None or cell["running"]]
        assert not not_run, f"cells not run (or still running) after Run All: {not_run}"
        for index, source, _ in cells:
            explorer = explorer_from_cell(source)
            output = check_widget_renders(page, index, plain_text(explorer.readout.value), live=True)
            screenshot(output, screenshots / f"{shot}-{index}-live.png")
            readout = output.locator(".losslab-readout")
            for position, control in enumerate(explorer.controls()):
                for ms in change_control(output, readout, control, explorer.readout, lab.changes, position):
                    widget = f"{type(explorer).__name__} ({notebook.stem[:2]})"
                    entry = {"config": lab.config, "widget": widget, "control": css_class(control), "ms": ms}
                    browser_report["latencies"].append(entry)
            screenshot(output, screenshots / f"{shot}-{index}-moved.png")
        page.screenshot(path=screenshots / f"{shot}-page.png")
    except BaseException:
        with contextlib.suppress(Exception):  # a browser that died must not hide the failure
            page.screenshot(path=screenshots / f"{shot}-FAILED.png")
        raise
