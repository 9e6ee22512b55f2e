"""Notebook 05 (binary cross-entropy): what its prose claims, swept over more cases than a lesson cell shows.

The lesson checks each idea once; these tests hold the claims for whole ranges: the running example for every
reduction, the soft-label minimum for many labels, where float32's sigmoid rounds to 0 and 1 and what BCELoss
then reports, the stable form at the extremes, pos_weight and weight, the bias of -log(p + eps), the
explorer's "things to try", and that the cell showing BCELoss refuse logits shows PyTorch's own call and
message. The notebook's own functions (bce_loop, bce_vectorised, ...) are taken from its cells.
"""

import ast
import math
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import losslab
from losslab.widgets.binary import bce_with_logits_losses

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_binary_cross_entropy.ipynb"
LESSON_FUNCTIONS = ("bce_loop", "bce_vectorised", "bce_with_logits_unsplit", "bce_with_logits_stable", "bce_with_eps")
PYTORCH_MESSAGE = "all elements of input should be between 0 and 1"  # F.binary_cross_entropy on logits


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def lesson(nb):
    """The notebook's functions (and the constants they use), executed from its cells' source."""
    namespace = {"math": math, "torch": torch, "F": F}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            defines = isinstance(node, ast.FunctionDef) and node.name in LESSON_FUNCTIONS
            constant = isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["EPS"]
            if defines or constant:
                exec(compile(ast.Module([node], type_ignores=[]), str(NOTEBOOK), "exec"), namespace)
    missing = [name for name in LESSON_FUNCTIONS if name not in namespace]
    assert not missing, f"the notebook no longer defines {missing}"
    return namespace


def tags(cell):
    return cell.metadata.get("tags", [])


# ------------------------------------------------------------------------- BCELoss refuses logits


def test_the_refusal_is_shown_with_pytorchs_own_call_and_message(nb):
    """The cell that shows BCELoss refusing logits calls PyTorch (not losslab), and its saved error is
    exactly what PyTorch raises today; the prose after it quotes that message."""
    index, cell = next(
        (i, c) for i, c in enumerate(nb.cells) if "raises-exception" in tags(c) and "binary_cross_entropy(" in c.source
    )
    assert "F.binary_cross_entropy(" in cell.source or "nn.BCELoss(" in cell.source
    assert "losslab" not in cell.source, "show PyTorch's own call: losslab's message is its own"
    with pytest.raises(RuntimeError) as raised:
        F.binary_cross_entropy(torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0]))
    assert str(raised.value) == PYTORCH_MESSAGE
    (error,) = [output for output in cell.outputs if output.output_type == "error"]
    assert (error.ename, error.evalue) == ("RuntimeError", PYTORCH_MESSAGE)
    after = nb.cells[index + 1]
    assert after.cell_type == "markdown" and f'"{PYTORCH_MESSAGE}"' in after.source


def test_nn_bceloss_refuses_logits_the_same_way():
    with pytest.raises(RuntimeError, match=f"^{PYTORCH_MESSAGE}$"):
        nn.BCELoss()(torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0]))


def test_logits_inside_0_1_pass_silently_as_probabilities():
    """PyTorch checks the range only: logits that happen to lie in [0, 1] give a number, no error."""
    logits = torch.tensor([0.5, 0.25, 1.0, 0.0])
    target = torch.tensor([1.0, 0.0, 1.0, 0.0])
    loss = F.binary_cross_entropy(logits, target)
    assert loss.isfinite() and loss != F.binary_cross_entropy_with_logits(logits, target)
    assert nn.BCELoss()(logits, target) == loss


def test_losslab_raises_the_same_type_with_a_message_of_its_own():
    with pytest.raises(RuntimeError) as raised:
        losslab.binary_cross_entropy(torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0]))
    message = str(raised.value)
    assert message != PYTORCH_MESSAGE and message.startswith(PYTORCH_MESSAGE)
    assert "binary_cross_entropy_with_logits" in message


# ------------------------------------------------------------------- the running example, every reduction

PROBS = torch.tensor([0.9, 0.3, 0.6, 0.05])
TARGET = torch.tensor([1.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_the_running_example_matches_pytorch_for_every_reduction(lesson, reduction):
    losses = lesson["bce_vectorised"](PROBS, TARGET)
    ours = {"none": losses, "mean": losses.mean(), "sum": losses.sum()}[reduction]
    for reference in (
        F.binary_cross_entropy(PROBS, TARGET, reduction=reduction),
        nn.BCELoss(reduction=reduction)(PROBS, TARGET),
        losslab.binary_cross_entropy(PROBS, TARGET, reduction=reduction),
    ):
        torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)
    loop = lesson["bce_loop"](PROBS.tolist(), TARGET.tolist())
    assert loop == pytest.approx(float(losses.mean()), abs=1e-6)
    assert [f"{v:.4f}" for v in losses.tolist()] == ["0.1054", "0.3567", "0.9163", "2.9957"]


def test_bce_is_two_class_cross_entropy_on_logits_0_z():
    generator = torch.Generator().manual_seed(0)
    probs = torch.rand(200, generator=generator, dtype=torch.float64).clamp(1e-6, 1 - 1e-6)
    target = torch.bernoulli(torch.full_like(probs, 0.5), generator=generator)
    logits = torch.logit(probs)
    two_class = torch.stack([torch.zeros_like(logits), logits], dim=1)
    torch.testing.assert_close(
        F.cross_entropy(two_class, target.long(), reduction="none"),
        F.binary_cross_entropy(probs, target, reduction="none"),
        rtol=1e-12,
        atol=1e-12,
    )


# ----------------------------------------------------------------------------------------- soft labels


@pytest.mark.parametrize("soft_label", [0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.95])
def test_a_soft_label_is_best_predicted_by_itself_and_costs_its_entropy(lesson, soft_label):
    """loss(p, q) = H(q) + KL(q || p) >= H(q) everywhere on the grid, with the minimum at p = q."""
    p_grid = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    losses = lesson["bce_vectorised"](p_grid, torch.full_like(p_grid, soft_label))
    entropy = -(soft_label * math.log(soft_label) + (1 - soft_label) * math.log(1 - soft_label))
    assert float((losses - entropy).min()) >= -1e-12
    best = int(losses.argmin())
    assert float(p_grid[best]) == pytest.approx(soft_label, abs=5e-4)
    assert float(losses[best]) == pytest.approx(entropy, abs=1e-12)


# -------------------------------------------------------------- float32's sigmoid and what BCELoss reports


def test_sigmoid_rounds_to_1_from_16_6_and_to_0_below_88_7_in_float32():
    assert 24 * math.log(2) == pytest.approx(16.6355, abs=1e-4)
    above = torch.linspace(16.64, 1000.0, 20000)
    below = torch.linspace(-20.0, 16.62, 20000)
    assert bool((torch.sigmoid(above) == 1).all()) and bool((torch.sigmoid(below) < 1).all())
    assert bool((torch.sigmoid(torch.linspace(-1000.0, -88.73, 20000)) == 0).all())
    assert bool((torch.sigmoid(torch.linspace(-88.72, 0.0, 20000)) > 0).all())


def test_bceloss_through_the_sigmoid_over_states_then_under_states_with_no_gradient():
    """y = 0: from z = 16.64 on BCELoss(sigmoid(z)) is 100, above the true loss z up to 100, below it after;
    its gradient with respect to z is 0 there, while BCEWithLogitsLoss keeps sigma(z) - y = 1."""
    logits = torch.linspace(16.64, 250.0, 5000, requires_grad=True)
    target = torch.zeros_like(logits)
    from_probs = F.binary_cross_entropy(torch.sigmoid(logits), target, reduction="none")
    exact = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    assert bool((from_probs == 100).all())
    assert bool((from_probs > exact)[logits < 99.9].all()) and bool((from_probs < exact)[logits > 100.1].all())
    (grad_from_probs,) = torch.autograd.grad(from_probs.sum(), logits)
    (grad_exact,) = torch.autograd.grad(exact.sum(), logits)
    assert bool((grad_from_probs == 0).all()) and bool((grad_exact == 1).all())


@pytest.mark.parametrize(("z", "y", "clamped", "exact"), [(20.0, 0.0, 100.0, 20.0), (-200.0, 1.0, 100.0, 200.0)])
def test_the_two_worked_examples(z, y, clamped, exact):
    logit, label = torch.tensor(z), torch.tensor(y)
    assert float(F.binary_cross_entropy(torch.sigmoid(logit), label)) == clamped
    assert float(F.binary_cross_entropy_with_logits(logit, label)) == pytest.approx(exact, abs=1e-5)


def test_bce_of_exact_0s_and_1s_is_inf_and_nan_by_the_formula_and_clamped_by_pytorch(lesson):
    probs = torch.tensor([0.0, 1.0, 0.0, 1.0])
    target = torch.tensor([1.0, 0.0, 0.0, 1.0])
    by_formula = lesson["bce_vectorised"](probs, target)
    assert by_formula[:2].isinf().all() and by_formula[2:].isnan().all()  # 0 * log 0 is nan, mirror case too
    assert F.binary_cross_entropy(probs, target, reduction="none").tolist() == [100.0, 100.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------- the stable form


@pytest.mark.parametrize("label", [0.0, 1.0, 0.3, 0.5, 0.9])
def test_the_stable_form_matches_pytorch_where_the_unsplit_one_overflows(lesson, label):
    logits = torch.cat([torch.linspace(-1000.0, 1000.0, 4001), torch.tensor([-88.8, -88.7, 88.7, 88.8])])
    target = torch.full_like(logits, label)
    reference = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    torch.testing.assert_close(lesson["bce_with_logits_stable"](logits, target), reference, rtol=1e-6, atol=1e-6)
    unsplit = lesson["bce_with_logits_unsplit"](logits, target)
    overflows = torch.exp(-logits).isinf()  # exactly where -z is above 88.72
    assert bool(unsplit[overflows].isinf().all()) and bool(overflows[logits < -88.73].all())
    torch.testing.assert_close(unsplit[logits > -80], reference[logits > -80], rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------ pos_weight and weight

BATCH_TARGET = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]] + [[0.0] * 3] * 4)


def test_pos_weight_as_negatives_over_positives_balances_each_class():
    """The weights of the positives of a class add up to the number of its negatives."""
    pos_weight = (BATCH_TARGET == 0).sum(dim=0) / BATCH_TARGET.sum(dim=0)
    assert pos_weight.tolist() == [1.0, 3.0, 7.0]
    torch.testing.assert_close(pos_weight * BATCH_TARGET.sum(dim=0), (BATCH_TARGET == 0).sum(dim=0).float())


@pytest.mark.parametrize("seed", [5, 0, 1, 2])
def test_pos_weight_multiplies_the_positives_by_their_class_weight_and_leaves_negatives(seed):
    pos_weight = torch.tensor([1.0, 3.0, 7.0])
    logits = torch.randn(8, 3, generator=torch.Generator().manual_seed(seed))
    plain = F.binary_cross_entropy_with_logits(logits, BATCH_TARGET, reduction="none")
    weighted = F.binary_cross_entropy_with_logits(logits, BATCH_TARGET, pos_weight=pos_weight, reduction="none")
    expected_ratio = torch.where(BATCH_TARGET == 1, pos_weight.expand(8, 3), torch.ones(8, 3))
    torch.testing.assert_close(weighted / plain, expected_ratio, rtol=1e-5, atol=0)


def test_a_per_example_pos_weight_raises_unless_n_equals_c_and_then_weighs_columns():
    logits = torch.randn(8, 3, generator=torch.Generator().manual_seed(5))
    with pytest.raises(RuntimeError, match="must match the size"):
        F.binary_cross_entropy_with_logits(logits, BATCH_TARGET, pos_weight=torch.ones(8))
    square_logits, square_target = logits[:3], BATCH_TARGET[:3]
    per_example = torch.tensor([10.0, 1.0, 1.0])  # meant for example 0
    losses = F.binary_cross_entropy_with_logits(square_logits, square_target, pos_weight=per_example, reduction="none")
    meant = -(per_example[:, None] * square_target * F.logsigmoid(square_logits))
    meant = meant - (1 - square_target) * F.logsigmoid(-square_logits)
    assert not torch.allclose(losses, meant)  # it runs, and weighs class 0 instead


@pytest.mark.parametrize("class_weight", [[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [3.0, 3.0, 3.0]])
def test_weight_rescales_elements_and_the_mean_still_divides_by_their_number(class_weight):
    weight = torch.tensor(class_weight)
    logits = torch.randn(8, 3, generator=torch.Generator().manual_seed(5))
    plain = F.binary_cross_entropy_with_logits(logits, BATCH_TARGET, reduction="none")
    weighted_mean = F.binary_cross_entropy_with_logits(logits, BATCH_TARGET, weight=weight)
    torch.testing.assert_close(weighted_mean, (weight * plain).sum() / plain.numel())


# ------------------------------------------------------------------------------------ -log(p + eps)


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_eps_inside_the_log_understates_the_loss_everywhere(lesson, label):
    """The notebook's "three effects, all in the same direction": the eps version is below the exact loss for
    every z, caps confident mistakes at -log(eps) and is negative for confident right answers."""
    logits = torch.linspace(-60.0, 60.0, 12001, dtype=torch.float64)
    target = torch.full_like(logits, label)
    exact = lesson["bce_with_logits_stable"](logits, target)
    with_eps = lesson["bce_with_eps"](logits, target)
    assert bool((with_eps < exact).all())
    assert float(with_eps.max()) <= -math.log(lesson["EPS"])
    right = logits > 20 if label == 1 else logits < -20
    assert bool((with_eps[right] < 0).all())


def test_eps_all_but_removes_the_gradient_of_the_worst_mistakes(lesson):
    logits = torch.linspace(-60.0, -17.0, 431, dtype=torch.float64, requires_grad=True)
    target = torch.ones_like(logits)
    (grad_eps,) = torch.autograd.grad(lesson["bce_with_eps"](logits, target).sum(), logits)
    assert bool((grad_eps.abs() < 0.5).all()) and float(grad_eps.abs()[logits.detach() <= -30].max()) < 1e-6
    stable = torch.sigmoid(logits.detach()) - target
    torch.testing.assert_close(stable, -torch.ones_like(stable), rtol=0, atol=1e-7)


# ------------------------------------------------------------------------------ the explorer's things to try


def loss_minimum(label, pos_weight):
    grid = torch.linspace(-10.0, 10.0, 20001)
    losses = bce_with_logits_losses(grid, label, pos_weight)
    best = int(losses.argmin())
    return float(grid[best]), float(losses[best])


def test_things_to_try_soft_labels_move_the_minimum():
    z, height = loss_minimum(0.5, 1.0)
    assert z == pytest.approx(0.0, abs=1e-3) and height == pytest.approx(math.log(2), abs=1e-6)
    z, _ = loss_minimum(0.25, 1.0)
    assert float(torch.sigmoid(torch.tensor(z))) == pytest.approx(0.25, abs=1e-3) and round(z, 1) == -1.1


def test_things_to_try_pos_weight_moves_the_minimum_of_a_soft_label():
    z, _ = loss_minimum(0.5, 3.0)  # the minimum of -[3 q log p + (1 - q) log(1 - p)] is at p = 3q / (3q + 1 - q)
    assert float(torch.sigmoid(torch.tensor(z))) == pytest.approx(0.75, abs=1e-3) and round(z, 1) == 1.1


def test_things_to_try_a_hard_label_never_reaches_0():
    grid = torch.linspace(-10.0, 10.0, 2001)
    losses = bce_with_logits_losses(grid, 1.0, 1.0)
    assert bool((losses > 0).all()) and float(losses[0]) == pytest.approx(10.0, abs=1e-4)
    slopes = torch.sigmoid(grid) - 1
    assert bool((slopes < 0).all())
