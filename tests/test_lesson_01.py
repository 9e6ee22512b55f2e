"""Notebook 01's facts, swept beyond the one example the lesson checks (one check per concept there).

The functions are the notebook's own: each test takes the definition of `softmax_loop`, `softmax_batch` or
`softmax_stable` from the notebook's code cells and runs it here, so a change to the lesson's code is
tested too. The package's versions (`losslab.softmax`, `losslab.log_softmax`) are tested against PyTorch
on every shape, dim and dtype in test_softmax.py.
"""

import ast
import math
from pathlib import Path

import nbformat
import pytest
import torch

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_logits_and_softmax.ipynb"
RUNNING_EXAMPLE = [2.0, 1.0, 0.1, -1.0]
BATCH_LOGITS = torch.tensor([[2.0, 1.0, 0.1, -1.0], [0.5, 0.5, 0.5, 0.5], [-3.0, 4.0, 1.0, 0.0]])  # (3, 4)


def lesson_function(name):
    """The function `name` as the notebook's lesson (not a solution cell) defines it."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "solution" in cell.metadata.get("tags", []):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                namespace = {"math": math, "torch": torch}
                exec(compile(ast.Module([node], type_ignores=[]), f"<notebook 01: {name}>", "exec"), namespace)
                return namespace[name]
    raise LookupError(f"notebook 01 defines no {name}")


@pytest.fixture(scope="module")
def softmax_loop():
    return lesson_function("softmax_loop")


@pytest.fixture(scope="module")
def softmax_batch():
    return lesson_function("softmax_batch")


@pytest.fixture(scope="module")
def softmax_stable():
    return lesson_function("softmax_stable")


def test_the_loop_matches_torch_on_every_row_of_the_batch(softmax_loop):
    for row in BATCH_LOGITS:
        probs = torch.tensor(softmax_loop(row.tolist()))
        torch.testing.assert_close(probs, torch.softmax(row, dim=0), atol=1e-6, rtol=0)


@pytest.mark.parametrize("shift", [-5.0, 10.0, 50.0, -80.0, 80.0])
def test_shift_invariance_of_the_naive_softmax_while_exp_stays_finite(softmax_batch, shift):
    torch.testing.assert_close(softmax_batch(BATCH_LOGITS + shift), softmax_batch(BATCH_LOGITS), atol=1e-6, rtol=0)


@pytest.mark.parametrize("shift", [-1e5, -1e4, -1000.0, 1000.0, 1e4, 1e5])
def test_the_naive_softmax_breaks_where_the_stable_one_does_not(softmax_batch, softmax_stable, shift):
    """In float64 (exp overflows above 709.78 there), so that adding the shift to 0.1 loses no digits that matter."""
    logits = BATCH_LOGITS.double()
    assert softmax_batch(logits + shift).isnan().all(dim=1).any()
    torch.testing.assert_close(softmax_stable(logits + shift), softmax_stable(logits), atol=1e-10, rtol=0)


def test_the_tough_batch_breaks_the_naive_softmax_in_its_last_six_rows(softmax_batch, softmax_stable):
    tough_logits = torch.cat([BATCH_LOGITS, 1000 * BATCH_LOGITS, BATCH_LOGITS - 1000])  # (9, 4), as in section 6
    assert softmax_batch(tough_logits).isnan().any(dim=1).tolist() == [False] * 3 + [True] * 6
    assert softmax_stable(tough_logits).isfinite().all()


def test_exp_overflows_in_float32_just_above_88_72_and_in_float16_just_above_11_09():
    assert torch.exp(torch.tensor(88.72)).isfinite() and torch.exp(torch.tensor(88.73)).isinf()
    assert torch.exp(torch.tensor(11.08, dtype=torch.float16)).isfinite()
    assert torch.exp(torch.tensor(11.1, dtype=torch.float16)).isinf()
    assert math.log(torch.finfo(torch.float16).max) == pytest.approx(11.09, abs=0.005)


def test_a_stable_softmax_underflows_only_more_than_about_103_below_the_maximum(softmax_stable):
    assert softmax_stable(torch.tensor([[0.0, -103.0]]))[0, 1] > 0
    assert softmax_stable(torch.tensor([[0.0, -104.0]]))[0, 1] == 0


@pytest.mark.parametrize("z", [-30.0, -4.0, -1.0, 0.0, 0.5, 3.0, 15.0])
def test_the_sigmoid_is_the_two_class_softmax_either_way_round_and_its_logit_the_log_odds(softmax_stable, z):
    sigmoid = torch.sigmoid(torch.tensor(z, dtype=torch.float64))
    logits = torch.tensor([[0.0, z], [z, 0.0]], dtype=torch.float64)  # class 1 has z, then class 0 has z
    probs = softmax_stable(logits)
    torch.testing.assert_close(probs[0, 1], sigmoid, atol=1e-15, rtol=0)
    torch.testing.assert_close(probs[1, 0], sigmoid, atol=1e-15, rtol=0)
    if abs(z) < 20:  # beyond, 1 - p rounds away the odds
        assert math.log(probs[0, 1] / (1 - probs[0, 1])) == pytest.approx(z, abs=1e-9)


@pytest.mark.parametrize("temperatures", [(0.05, 0.25, 0.5, 1.0, 2.0, 4.0, 50.0)])
def test_temperature_keeps_the_order_sharpens_below_1_and_flattens_above(softmax_stable, temperatures):
    logits = torch.tensor(RUNNING_EXAMPLE, dtype=torch.float64)
    probs = softmax_stable(logits / torch.tensor(temperatures, dtype=torch.float64)[:, None])  # (T, C)
    assert (probs.argsort(dim=1, descending=True) == torch.arange(4)).all(), "the order of the classes"
    top = probs[:, 0].tolist()
    assert top == sorted(top, reverse=True), "the largest probability falls as T rises"
    assert top[0] > 0.99 and max(abs(p - 0.25) for p in probs[-1].tolist()) < 0.02


def test_the_wrong_dim_normalises_columns_not_rows():
    wrong_dim = torch.softmax(BATCH_LOGITS, dim=0)
    torch.testing.assert_close(wrong_dim.sum(dim=0), torch.ones(4))
    assert (wrong_dim.sum(dim=1) - 1).abs().min() > 0.05
