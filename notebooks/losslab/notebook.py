"""What every notebook uses around its lesson: the first cell's `setup()`, the `check` helper that
compares with PyTorch, and `show_source`, which shows a kept function's code before the lesson uses it."""

import inspect
import os
import platform
import sys
from pathlib import Path

import matplotlib
import torch

from ._format import fmt
from .widgets import toolkit

# Inline PNGs without the matplotlib version in their metadata, so re-running a notebook
# leaves its file byte-identical.
_INLINE_FIGURE_KWARGS = {"bbox_inches": "tight", "metadata": {"Software": None}}
# Set to 1 (e.g. `LOSSLAB_PRESENTATION=1 make lab`) to teach on a projector: see `setup`.
PRESENTATION_VARIABLE = "LOSSLAB_PRESENTATION"
PACKAGE_ROOT = Path(__file__).resolve().parent
# The torch the outputs saved in the notebooks were made with (requirements.txt's pin; tests/test_colab.py
# keeps the two equal). On Colab, which has a torch of its own, `setup` says so.
OUTPUTS_TORCH = "2.13.0"
# Every torch release the course is verified on: OUTPUTS_TORCH by `make test`, the others by the version
# matrix (`make test-torch`, docs/torch-versions.md). tests/test_torch_matrix.py keeps this list, the
# Makefile's and the README's equal.
VERIFIED_TORCH = (OUTPUTS_TORCH, "2.14.1")


def _configure_ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    shell.run_line_magic("matplotlib", "inline")
    shell.run_line_magic("config", f"InlineBackend.print_figure_kwargs = {_INLINE_FIGURE_KWARGS!r}")
    # Inline figures keep every vertex of their lines, so their pixels are the same on any CPU (plots.exact_paths).
    matplotlib.rcParams["path.simplify"] = False
    # An error shown on purpose is its type and message: no frames of torch's internals, and no path of
    # the folder the notebook runs in (which would change the saved file from one checkout to the next).
    # Set on the traceback formatter directly: the %xmode magic would print a line about it.
    shell.InteractiveTB.set_mode(mode="Minimal")


def versions():
    """The versions that matter for the printed numbers, as one line."""
    import ipywidgets
    import matplotlib
    import numpy

    return (
        f"python {platform.python_version()} | torch {torch.__version__} | numpy {numpy.__version__} | "
        f"matplotlib {matplotlib.__version__} | ipywidgets {ipywidgets.__version__}"
    )


def presentation_requested():
    """True if the environment asks for projector mode (LOSSLAB_PRESENTATION set to 1, yes, true or on)."""
    return os.environ.get(PRESENTATION_VARIABLE, "").strip().lower() in {"1", "yes", "true", "on"}


def on_colab():
    """True in a Google Colab kernel (which imports google.colab at startup)."""
    return "google.colab" in sys.modules


def colab_note():
    """The line `setup` prints on Colab: the saved outputs come from another torch than the learner's."""
    verified = " and ".join(VERIFIED_TORCH)
    return (
        f"On Colab: the outputs saved in this notebook were made with torch {OUTPUTS_TORCH} and you have torch "
        f"{torch.__version__}, so the last digit of a printed number can differ from the saved one. "
        f"The course is verified on torch {verified}."
    )


def _enable_colab_widgets():
    """ipywidgets 8 needs Colab's custom widget manager (its built-in one draws ipywidgets 7 only). With
    ipywidgets 7 the built-in one stays: it draws every core widget, and the custom one has broken some
    (googlecolab/colabtools#3571)."""
    import ipywidgets

    if int(ipywidgets.__version__.split(".")[0]) < 8:
        return
    try:
        from google.colab import output

        output.enable_custom_widget_manager()
    except (ImportError, AttributeError):  # a Colab that lacks it: the widgets may still show
        pass


def setup(seed=0, presentation=None):
    """Seed torch, print tensors with 4 fixed decimals, configure inline figures and short tracebacks,
    print the versions (and on Colab, that the saved outputs were made with another torch).

    `presentation=True` (or LOSSLAB_PRESENTATION=1 in the environment, when `presentation` is None) turns
    on projector mode for the explorers made after it: charts at least 900 px wide with large fonts, and a
    large readout. The numbers they show are the same."""
    _configure_ipython()
    torch.manual_seed(seed)
    torch.set_printoptions(precision=4, sci_mode=False)
    toolkit.set_projector_mode(presentation_requested() if presentation is None else bool(presentation))
    print("Outputs made with", versions())
    if on_colab():
        _enable_colab_widgets()
        print(colab_note())


def max_difference(ours, reference):
    """The largest |ours - reference| as a float (in float64; 0 where both are equal, infinities too)."""
    ours, reference = torch.as_tensor(ours), torch.as_tensor(reference)
    if ours.numel() == 0:
        return 0.0
    ours, reference = torch.broadcast_tensors(ours.double(), reference.double())
    differences = torch.where(ours == reference, 0.0, (ours - reference).abs())
    return differences.max().item()


def difference_text(difference):
    """A difference as the check prints it: 0, or two significant digits ("6.0e-08")."""
    return "0" if difference == 0 else f"{difference:.1e}"


def check(name, ours, reference, atol=1e-6, rtol=0.0):
    """Assert with torch.testing.assert_close that `ours` matches `reference` within the stated tolerances
    (a failed check raises, showing the largest difference), then print one line with the largest
    difference it found and the tolerances, as makemore's `cmp` does."""
    torch.testing.assert_close(ours, reference, atol=atol, rtol=rtol)
    difference = difference_text(max_difference(ours, reference))
    print(f"✓ {name}: max |difference| = {difference}  (atol={atol:g}, rtol={rtol:g})")


class Source:
    """A function's or class's code for the notebook to show: Python-highlighted Markdown in JupyterLab,
    GitHub and the slides, the plain code as text (which nbval compares, so a changed function shows)."""

    def __init__(self, obj):
        self.code = inspect.getsource(obj).rstrip("\n")
        file = Path(inspect.getsourcefile(obj)).resolve()
        self.where = f"losslab/{file.relative_to(PACKAGE_ROOT).as_posix()}"

    def __repr__(self):
        return f"# {self.where}\n{self.code}"

    def _repr_markdown_(self):
        return f"```python\n{self!r}\n```"


def show_source(obj):
    """The code of `obj`, a function or class of losslab, headed by the file it lives in (relative)."""
    return Source(obj)


__all__ = ["setup", "check", "show_source", "versions", "fmt"]
