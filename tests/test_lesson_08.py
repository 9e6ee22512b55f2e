"""Notebook 08 (training and calibration): the claims its prose makes about the four runs, swept over every
epoch and run here rather than checked cell by cell in the lesson.

- plain cross-entropy: the logit norm keeps growing, the model fits its training set better than it
  generalises, and it ends over-confident on held-out data (confidence above accuracy, on its mistakes too);
- label smoothing bounds the logit norm, below notebook 06's optimum for its gap, and alpha = 0.3 ends
  under-confident;
- the double softmax trains far more slowly, its loss never below log(e + C - 1) - 1, and on its confident
  mistakes its gradient is far smaller than cross-entropy's would be;
- temperature scaling lowers every run's held-out NLL and the ECE, and never changes a prediction;
- the notebook's ECE loop is losslab's ECE at every epoch of every run;
- and the explorer reads the runs the notebook trained (one training per process).
"""

import math
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F

from explorers import explorer_from_cell
from losslab.calibration import ece, fit_temperature, temperature_nll
from losslab.label_smoothing import optimal_logit_gap
from losslab.training import EPOCHS, course_runs, mlp

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08_training_and_calibration.ipynb"


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def trained():
    return course_runs()


def code_defining(nb, name):
    """The source of the code cell that defines the function `name`."""
    return next(cell.source for cell in nb.cells if cell.cell_type == "code" and f"def {name}(" in cell.source)


def test_cross_entropy_keeps_growing_the_logits_and_ends_over_confident(trained):
    _, runs = trained
    run = runs["cross-entropy"]
    norms = run.held_logit_norm[30::30]
    assert (norms[1:] > norms[:-1]).all()  # every 30 epochs, larger
    assert run.train_accuracy[-1] > run.held_accuracy[-1] + 0.1
    assert run.held_nll[-1] > 2 * run.held_nll[30]
    assert (run.held_confidence[100:] > run.held_accuracy[100:] + 0.05).all()
    mistakes = ~run.held_correct[-1]
    assert run.held_confidences[-1][mistakes].mean() > 0.8


def test_smoothing_bounds_the_logits_below_the_optimum_of_notebook_06(trained):
    data, runs = trained
    cross_entropy = runs["cross-entropy"]
    for name, alpha in (("smoothing α = 0.1", 0.1), ("smoothing α = 0.3", 0.3)):
        run = runs[name]
        assert (run.held_logit_norm[30:] < cross_entropy.held_logit_norm[30:]).all()
        assert run.held_logit_norm[-1] - run.held_logit_norm[200] < 0.25  # levels off
        logits = mlp(run.params, data.train_points).detach()
        top = logits.max(dim=1).values
        gap = top - (logits.sum(dim=1) - top) / 3
        best = optimal_logit_gap(alpha, 4)
        assert gap.median() < best and abs(run.held_logit_norm[-1] - best * math.sqrt(3 / 4)) < 0.2
    heavy = runs["smoothing α = 0.3"]
    assert heavy.held_confidence[-1] < heavy.held_accuracy[-1] - 0.05  # under-confident


def test_the_double_softmax_trains_far_more_slowly_and_its_loss_has_a_floor(trained):
    data, runs = trained
    double, cross_entropy = runs["double softmax"], runs["cross-entropy"]
    assert double.train_accuracy[-1] < cross_entropy.train_accuracy[30] - 0.1
    assert (double.objective >= math.log(math.e + 3) - 1).all()
    logits = mlp(double.params, data.train_points).detach()
    probs = torch.softmax(logits, dim=1)
    wrong = probs.argmax(dim=1) != data.train_labels
    one_hot = F.one_hot(data.train_labels, 4).double()
    z = logits.clone().requires_grad_()
    (grad,) = torch.autograd.grad(F.cross_entropy(torch.softmax(z, dim=1), data.train_labels), z)
    ce_grad = (probs - one_hot) / len(probs)
    assert grad[wrong].norm(dim=1).mean() * 50 < ce_grad[wrong].norm(dim=1).mean()
    assert double.held_ece[-1] == max(run.held_ece[-1] for run in runs.values())


def test_temperature_scaling_improves_every_run_and_changes_no_prediction(trained):
    data, runs = trained
    labels = data.held_labels
    for name, run in runs.items():
        temperature = fit_temperature(run.held_logits, labels)
        before = torch.softmax(run.held_logits, dim=1)
        after = torch.softmax(run.held_logits / temperature, dim=1)
        assert torch.equal(before.argmax(dim=1), after.argmax(dim=1)), name
        assert temperature_nll(run.held_logits, labels, temperature) < temperature_nll(run.held_logits, labels, 1.0)
        assert ece(after, labels) < ece(before, labels), name
    assert fit_temperature(runs["cross-entropy"].held_logits, labels) > 1  # softens the over-confident run
    assert fit_temperature(runs["smoothing α = 0.3"].held_logits, labels) < 1  # sharpens the under-confident one


def test_the_notebooks_ece_loop_is_losslabs_ece_at_every_epoch(nb, trained):
    data, runs = trained
    namespace = {"torch": torch}
    exec(code_defining(nb, "ece_loop").split("\n\n\nheld_probs")[0], namespace)
    for run in runs.values():
        probs = torch.softmax(run.held_logits, dim=1)
        assert namespace["ece_loop"](probs, data.held_labels) == pytest.approx(
            ece(probs, data.held_labels).item(), abs=1e-12
        )
    for run in runs.values():  # every recorded epoch: the stored ECE is the loop's, from the stored confidences
        for epoch in range(0, EPOCHS + 1, 20):
            confidences, correct = run.held_confidences[epoch], run.held_correct[epoch]
            edges = [b / 15 for b in range(16)]
            total = 0.0
            for b in range(15):
                members = [(c, k) for c, k in zip(confidences.tolist(), correct.tolist(), strict=True)
                           if edges[b] < c <= edges[b + 1]]  # fmt: skip
                if members:
                    accuracy = sum(k for _, k in members) / len(members)
                    mean_confidence = sum(c for c, _ in members) / len(members)
                    total += len(members) / len(confidences) * abs(accuracy - mean_confidence)
            assert run.held_ece[epoch].item() == pytest.approx(total, abs=1e-12)


def test_the_notebooks_newton_loop_lands_on_fit_temperature(nb, trained):
    data, runs = trained
    source = code_defining(nb, "nll_slope_curvature")
    for name, run in runs.items():
        namespace = {"torch": torch, "history": run, "data": data, "fmt": str, "print": lambda *args: None}
        exec(source.replace("range(7)", "range(30)"), namespace)
        expected = fit_temperature(run.held_logits, data.held_labels)
        assert 1 / namespace["beta"] == pytest.approx(expected, rel=1e-9), name


def test_the_explorer_cell_shows_the_notebooks_runs(nb, trained):
    _, runs = trained
    cell = next(c for c in nb.cells if c.cell_type == "code" and "CalibrationExplorer()" in c.source)
    explorer = explorer_from_cell(cell.source)
    assert explorer.runs == runs and all(explorer.runs[name] is runs[name] for name in runs)
    assert "nbval-ignore-output" in cell.metadata.get("tags", [])


def test_the_prose_names_the_runs_and_the_tie_to_notebook_06(nb):
    prose = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    for phrase in ("over-confident", "under-confident", "notebook 06", "notebook 04", "notebook 02", "15"):
        assert phrase in prose, phrase
