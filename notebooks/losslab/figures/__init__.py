"""The course figures, one module per notebook topic; this package also writes them all to disk,
byte-reproducibly.

A module here registers each figure it defines with the `course_figure` decorator; every module
of the package is imported below, so a new module's figures need no other registration. Each
notebook shows its figure by calling the builder function.

Usage (from notebooks/, as `make figs` does): python -m losslab.figures OUTDIR
"""

import importlib
import pkgutil
import sys
from pathlib import Path

import matplotlib.pyplot as plt

from ..plots import exact_paths, png_bytes

# File name -> function that builds the figure (with its default arguments).
FIGURES = {}


def course_figure(file_name):
    """Register the decorated figure builder under `file_name` (e.g. "02_surprise.png") in FIGURES."""

    def register(build):
        if file_name in FIGURES:
            raise ValueError(f"two course figures are named {file_name}")
        FIGURES[file_name] = build
        return build

    return register


for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def write_figures(outdir, dpi=100):
    """Write every course figure into `outdir`, in name order; return the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in sorted(FIGURES.items()):
        with exact_paths():  # the same bytes on any CPU
            fig = build()
            try:
                (outdir / name).write_bytes(png_bytes(fig, dpi=dpi, bbox_inches="tight"))
            finally:
                plt.close(fig)
        paths.append(outdir / name)
    return paths


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.exit(__doc__)
    for path in write_figures(argv[0]):
        print(f"wrote {path}")
