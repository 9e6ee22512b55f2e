"""Notebook 04's claims, held beyond the one example each of its cells checks.

The lesson checks each concept once; the sweeps behind its sentences live here: what it says about the
error a float target raises (PyTorch's own message, and losslab's with the same type), that rows sum to 0,
the tolerances it states, the class-weight divisor, the squared error's vanishing gradient, the gradient
of label smoothing vanishing at p = q, gradcheck of the hand-written backward, and the focal-loss solution.
"""

import ast
import math
import re
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from losslab.gradients import cross_entropy_grad

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_gradients.ipynb"

# The worked example the notebook runs on (notebook 02's), in float64 as there.
LOGITS = torch.tensor([[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]], dtype=torch.float64)
TARGET = torch.tensor([3, 0, 2])


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def cell_running(nb, source):
    """The one code cell whose source is exactly `source`."""
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == source]
    return cell


def error_of(cell):
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    return error.ename, error.evalue


def raised(call):
    with pytest.raises(Exception) as caught:
        call()
    return type(caught.value).__name__, str(caught.value)


def batches(count=20, seed=0):
    """Seeded random batches: logits (N, C) of scale up to 30, class indices (N,)."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(count):
        n, c = (int(v) for v in torch.randint(1, 9, (2,), generator=generator))
        c += 1
        scale = float(torch.rand((), generator=generator)) * 30
        logits = scale * torch.randn(n, c, dtype=torch.float64, generator=generator)
        yield logits, torch.randint(0, c, (n,), generator=generator)


def autograd(loss, logits, *args, **kwargs):
    leaf = logits.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(leaf, *args, **kwargs), leaf)
    return grad


def by_hand(logits, target):
    return (torch.softmax(logits, dim=1) - F.one_hot(target, logits.shape[1]).double()) / logits.shape[0]


# ------------------------------------------------------------- the float target's error (issue 11)

PYTORCH_CALL = "F.cross_entropy(logits.detach(), target.double())"
LOSSLAB_CALL = "cross_entropy_grad(logits.detach(), target.double())"


def test_the_error_shown_for_pytorchs_call_is_pytorchs_own(nb):
    shown = error_of(cell_running(nb, PYTORCH_CALL))
    assert shown == raised(lambda: F.cross_entropy(LOGITS, TARGET.double()))


def test_losslabs_error_has_pytorchs_type_and_its_own_message(nb):
    torch_type, torch_message = raised(lambda: F.cross_entropy(LOGITS, TARGET.double()))
    shown_type, shown_message = error_of(cell_running(nb, LOSSLAB_CALL))
    assert (shown_type, shown_message) == raised(lambda: cross_entropy_grad(LOGITS, TARGET.double()))
    assert shown_type == torch_type == "RuntimeError"
    assert shown_message != torch_message
    # What the prose says of the two messages: the same opening words, torch.float64 where PyTorch says Double,
    # and what to do.
    opening = "expected target dtype to be Long or Byte, but got"
    assert torch_message.startswith(opening) and shown_message.startswith(opening)
    assert "Double" in torch_message and "torch.float64" in shown_message
    assert "target.long()" in shown_message and "same shape as the input" in shown_message


def test_the_prose_claims_only_the_type_is_pytorchs(nb):
    prose = " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    assert "the same error as" not in prose
    assert "The type is PyTorch's, a `RuntimeError`" in prose
    assert "The message is losslab's own" in prose
    index = nb.cells.index(cell_running(nb, LOSSLAB_CALL))
    assert "losslab's own" in nb.cells[index + 1].source  # right after the error it speaks of


# -------------------------------------------------------------------- sections 3 and 4: the claims


def test_hand_and_autograd_agree_within_the_stated_1e_15_in_float64():
    """Section 3: in float64 the two differ by a few units in the last place, never more than atol=1e-15."""
    for logits, target in batches():
        assert_close(by_hand(logits, target), autograd(F.cross_entropy, logits, target), rtol=0, atol=1e-15)


def test_a_real_mistake_is_off_by_more_than_1e_2_on_the_worked_example():
    right = by_hand(LOGITS, TARGET)
    for mistake in (right * 3, -right):  # a missing 1/N, a flipped sign
        assert (mistake - right).abs().max() > 1e-2


def test_every_row_sums_to_zero_and_every_entry_lies_in_minus_one_to_one():
    """Section 4, and section 2's bound: for one sample, p - e_y has entries in [-1, 1] that sum to 0."""
    for logits, target in batches():
        gradient = by_hand(logits, target) * logits.shape[0]  # p - e_y, row by row
        assert gradient.sum(dim=1).abs().max() < 1e-15
        assert (gradient.abs() <= 1).all()


def test_the_gradient_is_blind_to_shifting_a_row():
    for logits, target in batches():
        shifts = torch.randn(logits.shape[0], 1, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
        assert_close(by_hand(logits + 5 * shifts, target), by_hand(logits, target), rtol=0, atol=1e-12)


# ----------------------------------------------------------- sections 5 to 7: smoothing, gradcheck, weights


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.5])
def test_the_smoothed_gradient_vanishes_at_p_equal_q(alpha):
    """Section 5: the gradient is p - q, so logits z = log q (p = q) get none."""
    target = torch.tensor([0, 3, 1])
    q = (1 - alpha) * F.one_hot(target, 4).double() + alpha / 4
    gradient = autograd(F.cross_entropy, q.log(), target, label_smoothing=alpha)
    assert gradient.abs().max() < 1e-15


def test_gradcheck_passes_the_hand_written_backward_on_random_batches():
    """Section 6 gradchecks one batch: here twenty."""

    class CrossEntropyByHand(torch.autograd.Function):
        @staticmethod
        def forward(ctx, logits, target):
            ctx.save_for_backward(logits, target)
            return F.cross_entropy(logits, target)

        @staticmethod
        def backward(ctx, grad_output):
            logits, target = ctx.saved_tensors
            return grad_output * by_hand(logits, target), None

    for logits, target in batches(seed=6):
        logits = (logits / max(1.0, float(logits.abs().max()) / 5)).requires_grad_(True)  # finite differences
        assert torch.autograd.gradcheck(CrossEntropyByHand.apply, (logits, target))


def test_dividing_the_weighted_gradient_by_n_is_off_by_n_over_the_target_weights_sum():
    """Section 7: the factor is the same in every entry, N / sum_m w[y_m] (0.6667 on the worked example)."""
    generator = torch.Generator().manual_seed(7)
    for logits, target in batches():
        weight = 0.1 + torch.rand(logits.shape[1], dtype=torch.float64, generator=generator)
        target_weight = weight[target]
        divided_by_n = target_weight[:, None] * by_hand(logits, target)  # by_hand divides by N already
        ratio = autograd(F.cross_entropy, logits, target, weight=weight) / divided_by_n
        kept = divided_by_n.abs() > 1e-200  # entries that did not underflow
        expected = logits.shape[0] / target_weight.sum()
        assert_close(ratio[kept], expected.expand(int(kept.sum())), rtol=1e-9, atol=0)


# ---------------------------------------------------------------------- section 9: the squared error


def mse_gradient(z, y=1.0):
    p = torch.sigmoid(torch.as_tensor(z, dtype=torch.float64))
    return 2 * (p - y) * p * (1 - p)


def test_at_minus_10_cross_entropy_pushes_about_11000_times_harder():
    z = torch.tensor(-10.0, dtype=torch.float64)
    ratio = float((torch.sigmoid(z) - 1) / mse_gradient(z))
    assert round(ratio, -3) == 11000


def test_the_squared_errors_gradient_peaks_at_p_one_third_just_left_of_zero():
    z = torch.linspace(-10, 10, 200001, dtype=torch.float64)
    peak = float(z[mse_gradient(z).abs().argmax()])
    assert peak == pytest.approx(-math.log(2), abs=1e-4) and -1 < peak < 0
    assert float(torch.sigmoid(torch.tensor(peak))) == pytest.approx(1 / 3, abs=1e-4)
    assert float(mse_gradient(peak).abs() / mse_gradient(-10.0).abs()) > 1000  # "thousands of times larger"


# ------------------------------------------------------------------------- exercise 4: focal loss


def focal_loss(logits, target, gamma):
    log_p_y = torch.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    return (-((1 - log_p_y.exp()) ** gamma) * log_p_y).mean()


@pytest.fixture(scope="module")
def focal_solution(nb):
    """The notebook's solution of Exercise 4, the function alone (not its check)."""
    (cell,) = [c for c in nb.cells if "solution" in c.metadata.get("tags", []) and "def focal_gradient" in c.source]
    functions = [node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
    namespace = {"torch": torch, "F": F}
    exec(compile(ast.Module(functions, type_ignores=[]), "<solution>", "exec"), namespace)
    return namespace["focal_gradient"]


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_the_focal_solution_matches_autograd(focal_solution, gamma):
    for logits, target in batches(seed=4):
        logits = logits / max(1.0, float(logits.abs().max()) / 8)  # keep p_y away from 1, where gamma < 1 breaks
        expected = autograd(focal_loss, logits, target, gamma)
        assert_close(focal_solution(logits, target, gamma), expected, rtol=1e-9, atol=1e-15)


def test_focal_with_gamma_zero_is_the_cross_entropys_gradient(focal_solution):
    """Where p_y is below 1 in float64: where it rounds to 1, (1 - p_y)^(gamma - 1) is inf and the solution's
    factor nan (autograd's of the focal loss too, for 0 < gamma < 1)."""
    for logits, target in batches(seed=5):
        logits = logits / max(1.0, float(logits.abs().max()) / 8)
        assert_close(focal_solution(logits, target, 0.0), by_hand(logits, target), rtol=0, atol=1e-15)


def test_a_loss_of_p_y_alone_has_one_number_per_row_times_p_minus_e_y(focal_solution):
    """The summary's claim, for focal loss: each row of the gradient is a multiple of p - e_y."""
    for logits, target in batches(seed=8):
        logits = logits / max(1.0, float(logits.abs().max()) / 8)
        gradient, direction = focal_solution(logits, target, 2.0), by_hand(logits, target)
        at_target = direction.gather(1, target[:, None])  # (N, 1): nonzero, p_y - 1 < 0 over N
        assert_close(gradient, gradient.gather(1, target[:, None]) / at_target * direction, rtol=1e-9, atol=1e-15)


def test_the_exercise_says_which_reduction_it_asks_for(nb):
    (task,) = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("### Exercise 4")]
    assert re.search(r"\*\*mean\*\*", task.source) and 'reduction `"mean"`' in task.source
    assert "divide by $N$" in task.source
