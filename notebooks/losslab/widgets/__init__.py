"""Interactive explorers for the notebooks, one module per notebook topic, built from `toolkit`.

Each explorer is a small object that owns its controls and its chart (no global state, so
re-running a cell gives a fresh, independent explorer) and displays as its `.widget` box:
a notebook cell is just `SoftmaxExplorer()` after `from losslab.widgets.softmax import SoftmaxExplorer`.
Every explorer has the same structure, `toolkit.Explorer`: compute the numbers from the controls,
draw them on the chart, show them in the readout.

Updates never create figures or use Output widgets: the chart, made once, is redrawn to PNG
bytes that go into an `ipywidgets.Image` (see `toolkit.ChartImage`), and the numbers go into an
HTML readout (`toolkit.Readout`). (Only `recreate_figure=True`, the baseline `make bench` measures
against, makes a new figure per change.)
"""

import importlib
import inspect
import pkgutil


def all_explorers():
    """Every explorer class defined in a module of this package, sorted by name."""
    from .toolkit import Explorer

    found = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Explorer) and cls is not Explorer and cls.__module__ == module.__name__:
                found[name] = cls
    return [found[name] for name in sorted(found)]
