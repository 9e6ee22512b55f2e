"""Re-run notebooks top to bottom in a fresh kernel and save them in place, diff-free.

`make execute` calls this. Besides executing, it removes what would change between two
runs of the same code: random widget model ids (replaced by ids derived from the
notebook's name and the order widgets were created) and the Python patch version.
Usage: python tests/execute_notebooks.py notebooks/01_*.ipynb ...
"""

import json
import re
import sys
import uuid
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MODEL_REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]{32})")
ANY_MODEL_ID = re.compile(r"[0-9a-f]{32}")
ID_NAMESPACE = uuid.UUID("8f1c2a57-6a1e-4d53-9b1e-2f0c5e0a7d11")


def _model_ids_in_outputs(nb):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                yield view["model_id"]


def _references(model_state):
    return MODEL_REFERENCE.findall(json.dumps(model_state, sort_keys=True))


def canonical_widget_order(nb):
    """Widget ids in an order that does not depend on message timing: depth-first from the
    widgets displayed in outputs (in cell order), then any others sorted by their content."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    order, seen = [], set()

    def visit(model_id):
        if model_id in seen or model_id not in state:
            return
        seen.add(model_id)
        order.append(model_id)
        for child in _references(state[model_id]):
            visit(child)

    for model_id in _model_ids_in_outputs(nb):
        visit(model_id)
    masked = {k: ANY_MODEL_ID.sub("*", json.dumps(v, sort_keys=True)) for k, v in state.items()}
    for model_id in sorted(set(state) - seen, key=masked.get):
        visit(model_id)
    return order


def stable_widget_ids(nb, name):
    """Map each random widget model id to one derived from (notebook, canonical order)."""
    return {old: uuid.uuid5(ID_NAMESPACE, f"{name}/{i}").hex for i, old in enumerate(canonical_widget_order(nb))}


def merge_adjacent_streams(nb):
    """Join consecutive stream outputs of the same name: under load the kernel flushes one print
    in several pieces, which would otherwise change the saved file from run to run."""
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def normalised(nb, name):
    """The notebook as text: adjacent streams merged, stable widget ids, no Python patch version."""
    merge_adjacent_streams(nb)
    nb.metadata.get("language_info", {}).pop("version", None)
    text = nbformat.writes(nb)
    for old, new in stable_widget_ids(nb, name).items():
        text = text.replace(old, new)
    # Writing again sorts the widget state by its new, stable ids.
    return nbformat.writes(nbformat.reads(text, as_version=4))


def execute(path):
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    path.write_text(normalised(nb, path.stem), encoding="utf-8")
    print(f"executed {path}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for notebook in sys.argv[1:]:
        execute(notebook)
