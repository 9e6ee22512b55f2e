"""losslab.figures: the course figures are written, byte-reproducibly, by `python -m losslab.figures`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

from losslab.figures import FIGURES, course_figure, write_figures
from losslab.figures.softmax import EXAMPLE_LOGITS, EXAMPLE_TEMPERATURES, softmax_temperatures
from test_cpu_matrix import MATRIX

ANOTHER_CPU = MATRIX[0]  # numpy, MKL and torch on their generic loops, one thread

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_write_figures_writes_every_figure_and_closes_it(tmp_path):
    open_figures = plt.get_fignums()
    paths = write_figures(tmp_path / "figs")
    assert sorted(path.name for path in paths) == sorted(FIGURES)
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert b"Software" not in data and b"atplotlib" not in data
    assert plt.get_fignums() == open_figures


def test_two_runs_give_byte_identical_files(tmp_path):
    first = {path.name: path.read_bytes() for path in write_figures(tmp_path / "first")}
    second = {path.name: path.read_bytes() for path in write_figures(tmp_path / "second")}
    assert first == second


def test_command_line_matches_the_function(tmp_path):
    """`make figs` runs the module from notebooks/; a fresh process gives the same bytes."""
    result = subprocess.run(
        [sys.executable, "-m", "losslab.figures", str(tmp_path / "cli")],
        cwd=NOTEBOOKS,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote" in result.stdout
    in_process = {path.name: path.read_bytes() for path in write_figures(tmp_path / "in_process")}
    assert {name: (tmp_path / "cli" / name).read_bytes() for name in FIGURES} == in_process


def test_the_committed_figures_are_what_the_code_draws(tmp_path):
    """figs/ holds exactly the course figures, as `make figs` draws them today."""
    drawn = {path.name: path.read_bytes() for path in write_figures(tmp_path / "figs")}
    committed = {path.name: path.read_bytes() for path in (NOTEBOOKS.parent / "figs").glob("*.png")}
    assert sorted(committed) == sorted(drawn), "figs/ must hold the course figures and nothing else"
    stale = [name for name in drawn if committed[name] != drawn[name]]
    assert not stale, f"figs/ is out of date, run `make figs`: {stale}"


def test_another_cpu_draws_the_same_bytes(tmp_path):
    """The committed figures hold on any CPU: numpy's and torch's SIMD loops differ in the last bits, and a
    figure that let those bits reach its pixels (float32 curves, collinear points left to path simplification)
    was stale on a CI machine without AVX-512."""
    subprocess.run(
        [sys.executable, "-m", "losslab.figures", str(tmp_path / "other")],
        cwd=NOTEBOOKS,
        env={**os.environ, **ANOTHER_CPU},
        capture_output=True,
        check=True,
    )
    committed = NOTEBOOKS.parent / "figs"
    other = {name: (tmp_path / "other" / name).read_bytes() for name in FIGURES}
    differ = [name for name in sorted(FIGURES) if other[name] != (committed / name).read_bytes()]
    assert not differ, f"these figures change with the CPU's arithmetic: {differ}"


def test_command_line_without_outdir_prints_usage():
    result = subprocess.run([sys.executable, "-m", "losslab.figures"], cwd=NOTEBOOKS, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Usage" in result.stderr


def test_every_figure_is_named_after_its_notebook():
    for name in FIGURES:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.png", name), name
        assert list(NOTEBOOKS.glob(f"{name[:2]}_*.ipynb")), f"{name}: no notebook {name[:2]} shows it"


def test_every_notebook_has_a_course_figure_and_shows_it():
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        names = [name for name in FIGURES if name[:2] == notebook.name[:2]]
        assert names, f"{notebook.name} has no course figure in losslab.figures"
        text = notebook.read_text()
        for name in names:
            assert f"figs/{name}" in text, f"{notebook.name} does not mention figs/{name}"
            assert f"{FIGURES[name].__name__}(" in text, f"{notebook.name} does not show {name}"


def test_a_figure_name_can_be_registered_only_once():
    with pytest.raises(ValueError, match="two course figures are named 01_softmax_temperatures.png"):
        course_figure("01_softmax_temperatures.png")(lambda: None)


def test_softmax_temperatures_draws_softmax_of_z_over_t():
    fig = softmax_temperatures()
    try:
        axes = fig.axes
        assert len(axes) == len(EXAMPLE_TEMPERATURES)
        for ax, temperature in zip(axes, EXAMPLE_TEMPERATURES, strict=True):
            expected = torch.softmax(torch.tensor(EXAMPLE_LOGITS) / temperature, dim=0)
            heights = torch.tensor([bar.get_height() for bar in ax.patches])
            torch.testing.assert_close(heights, expected, rtol=0, atol=1e-6)
            assert ax.get_title() == f"T = {temperature:g}"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("temperatures", [(0.5,), (1.0, 2.0, 3.0)])
def test_softmax_temperatures_takes_any_logits_and_temperatures(temperatures):
    fig = softmax_temperatures(torch.tensor([0.0, 1.0, 2.0]), temperatures)
    try:
        assert len(fig.axes) == len(temperatures)
        assert "[0, 1, 2]" in fig.get_suptitle()
    finally:
        plt.close(fig)
