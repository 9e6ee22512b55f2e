"""The first cell of every notebook: reproducible settings, and the versions the outputs came from."""

import platform

import torch

# Inline PNGs without the matplotlib version in their metadata, so re-running a notebook
# leaves its file byte-identical.
_INLINE_FIGURE_KWARGS = {"bbox_inches": "tight", "metadata": {"Software": None}}


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


def versions():
    """The versions that matter for the printed numbers, as one line."""
    import ipywidgets
    import matplotlib
    import numpy

    return (
        f"python {platform.python_version()} | torch {torch.__version__} | numpy {numpy.__version__} | "
        f"matplotlib {matplotlib.__version__} | ipywidgets {ipywidgets.__version__}"
    )


def setup(seed=0):
    """Seed torch, print tensors with 4 fixed decimals, configure inline figures, print versions."""
    _configure_ipython()
    torch.manual_seed(seed)
    torch.set_printoptions(precision=4, sci_mode=False)
    print("Outputs made with", versions())


def check(name, ours, reference, atol=1e-6, rtol=0.0):
    """Assert with torch.testing.assert_close that `ours` matches `reference` within the stated
    tolerances, then print one line saying so (a failed check raises, showing the largest difference)."""
    torch.testing.assert_close(ours, reference, atol=atol, rtol=rtol)
    print(f"✓ {name}  (atol={atol:g}, rtol={rtol:g})")
