"""losslab.figures: the course figures are written, byte-reproducibly, by `python -m losslab.figures`."""

import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

from losslab.figures import EXAMPLE_LOGITS, EXAMPLE_TEMPERATURES, FIGURES, softmax_temperatures, write_figures

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


def test_command_line_without_outdir_prints_usage():
    result = subprocess.run([sys.executable, "-m", "losslab.figures"], cwd=NOTEBOOKS, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Usage" in result.stderr


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
