"""`make execute` must leave `git diff` empty: re-running a notebook, here or in another folder, reproduces its
file byte for byte."""

import shutil
from pathlib import Path

import nbformat
import pytest

from execute_notebooks import WIDGET_STATE, execute, merge_adjacent_streams, normalised

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def notebook_with_widgets(ids, order):
    """A tiny executed-looking notebook: a VBox (ids[0]) holding a slider (ids[1]) with a layout (ids[2])."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    view = {"model_id": ids[0], "version_major": 2, "version_minor": 0}
    cell = nbformat.v4.new_code_cell("box", id="cell-1", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": view})]
    nb.cells = [cell]
    models = {
        ids[0]: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{ids[1]}"]}},
        ids[1]: {"model_name": "FloatSliderModel", "state": {"layout": f"IPY_MODEL_{ids[2]}"}},
        ids[2]: {"model_name": "LayoutModel", "state": {}},
    }
    nb.metadata["widgets"] = {WIDGET_STATE: {"state": {ids[i]: models[ids[i]] for i in order}}}
    return nb


def test_random_widget_ids_and_their_order_do_not_reach_the_file():
    first = normalised(notebook_with_widgets(["a" * 32, "b" * 32, "c" * 32], [2, 0, 1]), "01_x")
    second = normalised(notebook_with_widgets(["d" * 32, "e" * 32, "f" * 32], [1, 2, 0]), "01_x")
    assert first == second
    assert "a" * 32 not in first and "3.11.7" not in first


def test_ids_differ_between_notebooks():
    ids = ["a" * 32, "b" * 32, "c" * 32]
    assert normalised(notebook_with_widgets(ids, [0, 1, 2]), "01_x") != normalised(
        notebook_with_widgets(ids, [0, 1, 2]), "02_y"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executing_in_another_folder_gives_the_committed_file(path, tmp_path, monkeypatch):
    """`make execute` leaves `git diff` empty, and so does executing the notebook in any other checkout:
    a copy executed in a temporary folder is byte for byte the committed file."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "notebooks"))
    copy = tmp_path / "elsewhere" / path.name
    copy.parent.mkdir()
    shutil.copy(path, copy)
    execute(copy)
    assert copy.read_bytes() == path.read_bytes(), f"re-run `make execute` and commit {path.name}, or find the churn"


def test_a_print_split_in_pieces_is_saved_as_one_output():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(...)", id="cell-1", execution_count=1)
    stream = nbformat.v4.new_output
    cell.outputs = [
        stream("stream", name="stdout", text="loss: 0.74"),
        stream("stream", name="stdout", text="37\n"),
        stream("display_data", data={"text/plain": "<Figure>"}),
        stream("stream", name="stdout", text="after\n"),
        stream("stream", name="stderr", text="warning\n"),
    ]
    nb.cells = [cell]
    merge_adjacent_streams(nb)
    assert [(o.output_type, o.get("text")) for o in cell.outputs] == [
        ("stream", "loss: 0.7437\n"),
        ("display_data", None),
        ("stream", "after\n"),
        ("stream", "warning\n"),
    ]
