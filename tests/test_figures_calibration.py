"""losslab.figures.calibration: the held-out reliability diagrams of notebook 08's runs."""

import matplotlib.pyplot as plt
import pytest
import torch

from losslab.calibration import ece, reliability_bins
from losslab.figures import FIGURES
from losslab.figures.calibration import SCALED, final_held_out_probs, reliability_diagrams
from losslab.training import RUNS


@pytest.fixture(scope="module")
def figure():
    fig = reliability_diagrams()
    yield fig
    plt.close(fig)


def test_is_registered_under_its_file_name():
    assert FIGURES["08_reliability_diagrams.png"] is reliability_diagrams


def test_one_panel_per_run_and_one_after_temperature_scaling(figure):
    titles = [ax.get_title().split("\n")[0] for ax in figure.axes]
    assert titles == [*RUNS, SCALED]


def test_each_panel_draws_its_bins_and_states_its_ece(figure):
    panels, labels = final_held_out_probs()
    for ax, probs in zip(figure.axes, panels.values(), strict=True):
        bins = reliability_bins(probs, labels)
        filled = bins.counts > 0
        bars = ax.containers[0]
        assert [bar.get_height() for bar in bars] == pytest.approx(bins.accuracy[filled].tolist())
        gaps = ax.containers[1]
        assert [bar.get_height() for bar in gaps] == pytest.approx(
            (bins.accuracy - bins.confidence)[filled].abs().tolist()
        )
        assert ax.get_title().endswith(f"ECE = {float(ece(probs, labels)):.3f}")


def test_temperature_scaling_lowers_the_ece_of_the_cross_entropy_run():
    panels, labels = final_held_out_probs()
    assert ece(panels[SCALED], labels) < ece(panels["cross-entropy"], labels) / 2
    assert torch.equal(panels[SCALED].argmax(dim=1), panels["cross-entropy"].argmax(dim=1))
