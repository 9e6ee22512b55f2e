"""losslab.widgets.calibration: the calibration explorer of notebook 08, driven from Python.

Its controls, what it shows for each run and epoch (read from the stored runs, never trained here), and its
extremes. What every explorer does alike is tested once for all of them in test_widgets_all.py.
"""

import pytest
import torch

from explorers import readout_numbers as all_readout_numbers
from losslab.training import EPOCHS, RUNS, course_runs, held_out_bins
from losslab.widgets.calibration import N_BINS, CalibrationExplorer


def readout_numbers(explorer):
    """The readout's four numbers (accuracy, mean confidence, ECE, logit norm), after the run's name (whose
    alpha is a number too)."""
    return all_readout_numbers(explorer)[-4:]


@pytest.fixture(scope="module")
def runs():
    return course_runs()[1]


def test_controls_have_labels_options_ranges_and_css_classes():
    explorer = CalibrationExplorer()
    assert explorer.run_buttons.description == "run"
    assert list(explorer.run_buttons.options) == list(RUNS)
    assert explorer.run_buttons.value == "cross-entropy"
    assert "losslab-run" in explorer.run_buttons._dom_classes
    epoch = explorer.epoch
    assert (epoch.description, epoch.min, epoch.max, epoch.step, epoch.value) == ("epoch", 0, EPOCHS, 1, EPOCHS)
    assert "losslab-epoch" in epoch._dom_classes


def test_initial_readout_shows_the_numbers_of_the_notebook():
    assert readout_numbers(CalibrationExplorer()) == ["0.7583", "0.9091", "0.1655", "11.71"]


@pytest.mark.parametrize("run", list(RUNS))
@pytest.mark.parametrize("epoch", [0, 1, 30, 157, EPOCHS])
def test_readout_and_bars_follow_the_run_and_the_epoch(runs, run, epoch):
    explorer = CalibrationExplorer()
    explorer.run_buttons.value = run
    explorer.epoch.value = epoch
    history = runs[run]
    expected = [history.held_accuracy[epoch], history.held_confidence[epoch], history.held_ece[epoch]]
    assert readout_numbers(explorer) == [f"{value:.4f}" for value in expected] + [
        f"{history.held_logit_norm[epoch]:.2f}"
    ]
    assert f"{run}, epoch {epoch}" in explorer.readout.value
    bins = held_out_bins(history, epoch, N_BINS)
    heights = explorer.accuracy_bars.get_data().values.tolist()
    assert heights == pytest.approx(torch.nan_to_num(bins.accuracy).tolist())
    assert explorer.accuracy_bars.get_data().edges.tolist() == pytest.approx(bins.edges.tolist())
    shares = explorer.count_bars.get_data().values.tolist()
    assert sum(shares) == pytest.approx(1.0)
    assert shares == pytest.approx((bins.counts / bins.counts.sum()).tolist())
    gaps = explorer.gap_bars.get_data()
    for top, bottom, count, accuracy, confidence in zip(
        gaps.values.tolist(),
        gaps.baseline.tolist(),
        bins.counts,
        bins.accuracy.tolist(),
        bins.confidence.tolist(),
        strict=True,
    ):
        if count:
            assert (bottom, top) == pytest.approx((min(accuracy, confidence), max(accuracy, confidence)))
        else:
            assert top == bottom == 0.0
    assert explorer.accuracy_line.get_xdata()[0] == pytest.approx(float(history.held_accuracy[epoch]))


def test_every_run_starts_from_the_same_picture():
    explorer = CalibrationExplorer(epoch=0)
    pictures = set()
    for run in RUNS:
        explorer.run_buttons.value = run
        pictures.add((*explorer.accuracy_bars.get_data().values, *explorer.count_bars.get_data().values))
    assert len(pictures) == 1


def test_out_of_range_epochs_are_clamped_not_errors():
    explorer = CalibrationExplorer()
    explorer.epoch.value = -5
    assert explorer.epoch.value == 0 and explorer.shown_epoch == 0
    explorer.epoch.value = 10_000
    assert explorer.epoch.value == EPOCHS and explorer.shown_epoch == EPOCHS


def test_it_reads_the_runs_it_is_given_and_refuses_others(runs):
    two = {name: runs[name] for name in ("cross-entropy", "double softmax")}
    explorer = CalibrationExplorer(runs=two, run="double softmax", epoch=10)
    assert list(explorer.run_buttons.options) == list(two)
    assert readout_numbers(explorer)[0] == f"{runs['double softmax'].held_accuracy[10]:.4f}"
    with pytest.raises(ValueError, match="initial run must be one of"):
        CalibrationExplorer(run="no such run")
    with pytest.raises(ValueError, match="at least one run"):
        CalibrationExplorer(runs={})


def test_no_nan_or_negative_zero_in_any_readout():
    explorer = CalibrationExplorer()
    for run in RUNS:
        explorer.run_buttons.value = run
        for epoch in range(0, EPOCHS + 1, 25):
            explorer.epoch.value = epoch
            text = explorer.readout.value
            assert "nan" not in text and "-0.0000" not in text, (run, epoch)


def test_axes_keep_fixed_limits():
    explorer = CalibrationExplorer()
    for run in RUNS:
        explorer.run_buttons.value = run
        explorer.epoch.value = 3
    assert [ax.get_xlim() for ax in explorer.figure.axes] == [(0.0, 1.0), (0.0, 1.0)]
    assert [ax.get_ylim() for ax in explorer.figure.axes] == [(0.0, 1.0), (0.0, 1.0)]
