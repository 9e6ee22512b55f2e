"""Interactive explorers for the notebooks, one module per notebook topic, built from `toolkit`.

Each explorer is a small object that owns its controls and its chart (no global state, so
re-running a cell gives a fresh, independent explorer) and displays as its `.widget` box:
a notebook cell is just `SoftmaxExplorer()` after `from losslab.widgets.softmax import SoftmaxExplorer`.

Updates never create figures or use Output widgets: the chart, made once, is redrawn to PNG
bytes that go into an `ipywidgets.Image` (see `toolkit.ChartImage`), and the numbers go into an
HTML readout (`toolkit.Readout`).
"""
