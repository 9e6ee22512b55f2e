"""How long each notebook takes top to bottom in a fresh kernel (the target is under 10 s).

Run with `make bench`. Executes in memory (nothing is saved); prints figures, asserts nothing.
Usage: python tests/bench/bench_notebooks.py notebooks/01_*.ipynb ...
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execution_seconds(path):
    """(seconds including the kernel start, seconds spent in the cells)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        cells_start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        end = time.perf_counter()
    return end - start, end - cells_start


def main(paths):
    print(f"{'notebook':44} {'with kernel start s':>20} {'cells only s':>13}")
    for path in map(Path, paths):
        total, cells = execution_seconds(path)
        print(f"{path.name:44} {total:20.1f} {cells:13.1f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
