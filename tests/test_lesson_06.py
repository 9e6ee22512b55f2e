"""Notebook 06 (label smoothing): the facts its prose states, swept here rather than checked cell by cell
in the lesson, and the corrections of issue 11 held as regressions.

- the explorer's "things to try": as C rises at alpha = 0.1, q_true *falls* towards 1 - alpha (0.95 at
  C = 2, 0.91 at C = 10) while the optimal gap g* grows;
- the binary trap counts classes with C (N is the batch size everywhere else);
- section 1: the infimum 0 is approached, never attained ("reached" was wrong);
- the loss of one sample as a function of the gap is l(g) (the notation's per-sample loss), not L(g);
- the weighted optimum is shown with the gradient argument, not "a Lagrange multiplier";
- and the sweeps behind single checks: the a/(C-1) variant against PyTorch's alpha' for every C, binary
  smoothing against the two-class softmax for several alpha, the loss over alpha as a straight line, the
  loss at g* as H(q), gradient descent landing on the weighted optimum, the alpha a target confidence needs.
"""

import math
import re
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from test_label_smoothing import seeded_example

import losslab
from explorers import readout_numbers
from losslab.label_smoothing import (
    loss_along_gap,
    minimum_loss,
    optimal_logit_gap,
    smooth_binary_labels,
    smooth_targets,
    weighted_optimum,
)
from losslab.widgets.label_smoothing import LabelSmoothingExplorer

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_label_smoothing.ipynb"


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def markdown(nb):
    return [cell.source for cell in nb.cells if cell.cell_type == "markdown"]


def cell_index(nb, text, kind=None):
    """The index of the first cell (of `kind`, if given) whose source contains `text`."""
    for index, cell in enumerate(nb.cells):
        if text in cell.source and (kind is None or cell.cell_type == kind):
            return index
    raise AssertionError(f"no cell holds {text!r}")


def section(nb, number):
    """The markdown of section `number` (from its `## N.` heading to the next `##`)."""
    sources, inside = [], False
    for cell in nb.cells:
        heading = cell.cell_type == "markdown" and cell.source.startswith("## ")
        if heading:
            inside = cell.source.startswith(f"## {number}. ")
        if inside and cell.cell_type == "markdown":
            sources.append(cell.source)
    assert sources, f"no section {number}"
    return "\n".join(sources)


# ------------------------------------------------------------------ correction 1: q_true falls with C


def test_q_true_falls_towards_one_minus_alpha_as_the_class_count_rises():
    alpha = 0.1
    q_true = [smooth_targets(torch.tensor(0), c, alpha, dtype=torch.float64)[0].item() for c in range(2, 11)]
    assert q_true[0] == pytest.approx(0.95) and q_true[-1] == pytest.approx(0.91)
    assert all(later < earlier for earlier, later in zip(q_true, q_true[1:], strict=False))
    assert all(value > 1 - alpha for value in q_true)  # towards 1 - alpha, from above


def test_the_optimal_gap_grows_as_the_class_count_rises():
    gaps = [optimal_logit_gap(0.1, c) for c in range(2, 11)]
    assert all(later > earlier for earlier, later in zip(gaps, gaps[1:], strict=False))


def test_the_explorer_shows_q_true_falling_from_c_2_to_c_10():
    explorer = LabelSmoothingExplorer()
    explorer.alpha.value = 0.1
    explorer.classes.value = 2
    at_two = readout_numbers(explorer)
    explorer.classes.value = 10
    at_ten = readout_numbers(explorer)
    assert at_two[0] == "0.9500" and at_ten[0] == "0.9100"
    assert float(at_ten[2]) > float(at_two[2])  # g* grows


def test_the_things_to_try_say_q_true_falls(nb):
    things = nb.cells[cell_index(nb, "Things to try", "markdown")].source
    item = next(line for line in things.splitlines() if line.startswith("3. "))
    item += things.split(item, 1)[1].split("\n4. ", 1)[0]
    assert re.search(r"q_\{\\text\{true\}\}\$ falls towards \$1 - \\alpha\$", item), item
    assert "$0.95$ at $C = 2$, $0.91$ at $C = 10$" in item
    assert "grows towards" not in item and "$g^*$ grows" in item


# ----------------------------------------------------------- correction 2: the binary trap counts with C


def test_the_binary_trap_names_the_class_count_c_not_n(nb):
    after = nb.cells[cell_index(nb, "def smooth_labels_from_batch", "code") + 1]
    assert after.cell_type == "markdown"
    assert "$C = 2$" in after.source and "$C = 1$" in after.source
    assert not re.search(r"\$N = [12]\$", after.source), after.source
    assert not re.search(r"\$N = [12]\$", section(nb, 5))


def test_the_batch_count_breaks_only_without_positives():
    def smooth_labels_from_batch(labels, alpha):
        return labels * (1 - alpha) + alpha / (int(labels.max()) + 1)

    with_positives = torch.tensor([1.0, 0.0, 0.0, 1.0])
    negatives = torch.zeros(4)
    torch.testing.assert_close(smooth_labels_from_batch(with_positives, 0.1), smooth_binary_labels(with_positives, 0.1))
    torch.testing.assert_close(smooth_labels_from_batch(negatives, 0.1), 2 * smooth_binary_labels(negatives, 0.1))


# ----------------------------------------------------------- correction 3: an infimum is approached


def test_section_1_says_the_infimum_is_approached_not_reached(nb):
    text = section(nb, 1)
    sentence = next(s for s in re.split(r"(?<=[.:])\s", text) if "infimum" in s)
    assert "approached" in sentence and "never attained" in sentence
    assert "reached" not in sentence


# ------------------------------------------------------------------------------------------ notation


def test_the_loss_of_one_sample_along_the_gap_is_ell_not_l(nb):
    text = "\n".join(markdown(nb))
    assert not re.search(r"\bL\(g\)|\bL'+\(g\)|dL/dg|\\frac\{dL\}", text)
    assert r"\ell(g) = -\sum_c q_c \log p_c" in section(nb, 6)
    assert r"\ell''(g) = p_0(1 - p_0)" in section(nb, 6)


def test_the_explorer_labels_say_ell():
    explorer = LabelSmoothingExplorer()
    curve_ax = explorer.figure.axes[1]
    assert "ℓ(g)" in curve_ax.get_ylabel() and "ℓ(g)" in curve_ax.get_title()
    assert "ℓ(g*) = 0.3897" in explorer.readout.value
    assert "loss at" not in explorer.readout.value


def test_the_weighted_optimum_comes_from_the_gradient_not_a_lagrange_multiplier(nb):
    text = section(nb, 8)
    assert "Lagrange" not in text
    assert r"-w_j q_j + p_j \sum_c w_c q_c = 0" in text and r"p_j - q_j = 0" in text


def test_the_kept_helpers_are_shown_before_they_are_used(nb):
    for helper, first_use in [
        ("smooth_binary_labels", "right_labels = smooth_binary_labels("),
        ("loss_along_gap", "grid_losses = loss_along_gap("),
        ("minimum_loss", "floor = torch.tensor(minimum_loss("),
        ("weighted_optimum", 'print("w q / sum(w q):'),
    ]:
        shown = cell_index(nb, f"show_source({helper})", "code")
        assert shown < cell_index(nb, first_use, "code"), helper


# ------------------------------------------------------------------- sweeps behind the lesson's checks


@pytest.mark.parametrize("n_classes", range(2, 11))
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.3])
def test_the_variant_is_pytorch_smoothing_with_alpha_c_over_c_minus_one(n_classes, alpha):
    torch.manual_seed(n_classes)
    logits = torch.randn(6, n_classes, dtype=torch.float64)
    target = torch.randint(0, n_classes, (6,))
    one_hot = F.one_hot(target, n_classes).double()
    variant = (1 - alpha) * one_hot + (1 - one_hot) * alpha / (n_classes - 1)
    alpha_prime = alpha * n_classes / (n_classes - 1)
    torch.testing.assert_close(
        F.cross_entropy(logits, variant), F.cross_entropy(logits, target, label_smoothing=alpha_prime)
    )


def test_the_variants_alpha_in_pytorchs_terms_as_the_prose_says():
    assert 0.1 * 5 / 4 == pytest.approx(0.125) and 0.1 * 2 / 1 == pytest.approx(0.2)


def test_the_running_example_through_losslab_and_with_q():
    logits, target = seeded_example()
    reference = F.cross_entropy(logits, target, label_smoothing=0.1)
    assert f"{reference:.4f}" == "1.6227"
    torch.testing.assert_close(losslab.cross_entropy(logits, target, label_smoothing=0.1), reference)
    torch.testing.assert_close(F.cross_entropy(logits, smooth_targets(target, 5, 0.1)), reference)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 1.0])
def test_binary_smoothing_is_two_class_label_smoothing(alpha):
    logits = torch.tensor([-3.0, -2.0, -4.0, -1.0, 2.5, 0.0], dtype=torch.float64)
    labels = torch.tensor([1, 0, 0, 1, 1, 0])
    two_class = torch.stack([torch.zeros_like(logits), logits], dim=1)
    torch.testing.assert_close(
        F.binary_cross_entropy_with_logits(logits, smooth_binary_labels(labels, alpha).double()),
        F.cross_entropy(two_class, labels, label_smoothing=alpha),
    )


@pytest.mark.parametrize(("alpha", "n_classes"), [(0.1, 5), (0.01, 10), (0.5, 2), (1.0, 4)])
def test_at_the_optimal_gap_p_is_q_and_the_loss_is_the_entropy_of_q(alpha, n_classes):
    gap = optimal_logit_gap(alpha, n_classes)
    logits = torch.zeros(n_classes, dtype=torch.float64)
    logits[0] = gap
    q = smooth_targets(torch.tensor(0), n_classes, alpha, dtype=torch.float64)
    torch.testing.assert_close(torch.softmax(logits, dim=0), q)
    entropy = -(q * q.log()).sum().item()
    assert loss_along_gap([gap], alpha, n_classes).item() == pytest.approx(entropy, rel=1e-12)
    assert minimum_loss(alpha, n_classes) == pytest.approx(entropy, rel=1e-12)


def test_the_loss_over_alpha_is_a_straight_line():
    """Section 7: the loss grows in equal steps, from the cross-entropy to the mean surprise."""
    logits, target = torch.tensor([[2.0, 1.0, 0.1, -1.0]], dtype=torch.float64), torch.tensor([0])
    losses = torch.stack([losslab.cross_entropy(logits, target, label_smoothing=k / 10) for k in range(11)])
    steps = losses.diff()
    torch.testing.assert_close(steps, torch.full_like(steps, steps[0].item()))
    assert [f"{losses[0]:.4f}", f"{losses[-1]:.4f}"] == ["0.4493", "1.9243"]
    assert minimum_loss(1.0, 4) == pytest.approx(math.log(4))


def test_gradient_descent_lands_on_the_weighted_optimum_in_300_steps():
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    logits = torch.zeros(1, 4, dtype=torch.float64, requires_grad=True)
    for _ in range(300):
        loss = F.cross_entropy(logits, torch.tensor([0]), weight=weights, label_smoothing=0.1)
        (grad,) = torch.autograd.grad(loss, logits)
        with torch.no_grad():
            logits -= grad
    found = torch.softmax(logits.detach()[0], dim=0)
    difference = (found - weighted_optimum(weights, 0, 0.1)).abs().max().item()
    assert 1e-10 < difference < 1e-9  # "within 4.0e-10": converged, and not by luck of rounding
    torch.testing.assert_close(
        weighted_optimum(torch.ones(4, dtype=torch.float64), 0, 0.1),
        smooth_targets(torch.tensor(0), 4, 0.1, dtype=torch.float64),
    )


@pytest.mark.parametrize(("confidence", "n_classes"), [(0.9, 10), (0.9, 5), (0.9, 2), (0.5, 3)])
def test_the_alpha_for_a_target_confidence_gives_that_confidence_at_the_optimum(confidence, n_classes):
    alpha = (1 - confidence) * n_classes / (n_classes - 1)
    logits = torch.zeros(n_classes, dtype=torch.float64)
    logits[0] = optimal_logit_gap(alpha, n_classes)
    assert torch.softmax(logits, dim=0)[0].item() == pytest.approx(confidence, rel=1e-12)


def test_ninety_percent_with_ten_classes_as_the_solution_prints():
    alpha = (1 - 0.9) * 10 / 9
    assert f"{alpha:.4f}" == "0.1111" and f"{optimal_logit_gap(alpha, 10):.4f}" == "4.3944"
    assert optimal_logit_gap(alpha, 10) == pytest.approx(math.log(81))
