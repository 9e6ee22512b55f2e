"""losslab.calibration: confidence, the reliability bins, the ECE and temperature scaling.

The ECE is compared with a direct computation (every prediction tested against every bin's edges), the
fitted temperature with a grid and with autograd's slope, on Hypothesis' examples and on fixed cases whose
answer is known; every function refuses bad input with a message that says what to pass.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from losslab.calibration import (
    DEFAULT_BINS,
    bin_predictions,
    confidence,
    ece,
    fit_temperature,
    reliability_bins,
    temperature_nll,
)
from strategies import HINT, tensors


def direct_ece(probs, target, n_bins=DEFAULT_BINS):
    """The ECE as its formula reads, with Python floats and each bin's edges b / B and (b + 1) / B."""
    confidences = probs.max(dim=1).values.tolist()
    correct = (probs.argmax(dim=1) == target).tolist()
    total = 0.0
    for b in range(n_bins):
        lower, upper = b / n_bins, (b + 1) / n_bins
        members = [i for i, c in enumerate(confidences) if lower < c <= upper or (b == 0 and c == 0)]
        if members:
            accuracy = sum(correct[i] for i in members) / len(members)
            mean_confidence = sum(confidences[i] for i in members) / len(members)
            total += len(members) / len(confidences) * abs(accuracy - mean_confidence)
    return total


@st.composite
def predictions(draw, max_rows=12, max_classes=5):
    """(probs (N, C) float64 from softmax of drawn logits, target (N,))."""
    n_rows, n_classes = draw(st.integers(1, max_rows)), draw(st.integers(2, max_classes))
    logits = draw(tensors((n_rows, n_classes), st.floats(-8, 8)))
    target = torch.tensor(draw(st.lists(st.integers(0, n_classes - 1), min_size=n_rows, max_size=n_rows)))
    return torch.softmax(logits, dim=1), target


@given(example=predictions(), n_bins=st.integers(1, 20))
def test_ece_is_the_direct_computation(example, n_bins):
    probs, target = example
    expected = direct_ece(probs, target, n_bins)
    assert ece(probs, target, n_bins).item() == pytest.approx(expected, abs=1e-12)
    assert 0.0 <= ece(probs, target, n_bins).item() <= 1.0


@given(example=predictions())
def test_bins_count_every_prediction_once_and_average_within_their_edges(example):
    probs, target = example
    bins = reliability_bins(probs, target)
    assert int(bins.counts.sum()) == len(target)
    filled = bins.counts > 0
    assert torch.isnan(bins.accuracy[~filled]).all() and torch.isnan(bins.confidence[~filled]).all()
    lower, upper = bins.edges[:-1][filled], bins.edges[1:][filled]
    assert ((bins.confidence[filled] > lower - 1e-12) & (bins.confidence[filled] <= upper + 1e-12)).all()
    assert ((bins.accuracy[filled] >= 0) & (bins.accuracy[filled] <= 1)).all()


def test_a_confidence_on_an_edge_belongs_to_the_bin_below_it():
    edges = torch.linspace(0, 1, 16, dtype=torch.float64)
    confidences = torch.stack([edges[3], edges[3] + 1e-9, torch.tensor(0.0, dtype=torch.float64), edges[-1]])
    bins = bin_predictions(confidences, torch.tensor([True, False, True, True]), 15)
    assert bins.counts[2] == 1 and bins.counts[3] == 1  # (2/15, 3/15] holds 3/15; (3/15, 4/15] the next one
    assert bins.counts[0] == 1 and bins.counts[14] == 1  # 0 goes to the first bin, 1 to the last
    assert bins.edges.tolist() == edges.tolist()


def test_known_answers():
    # Confidence 1, all right: calibrated. Confidence 1, all wrong: ECE 1. Half right at confidence 0.5: 0.
    sure = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    assert ece(sure, torch.tensor([0, 1])).item() == 0.0
    assert ece(sure, torch.tensor([1, 0])).item() == 1.0
    halves = torch.full((4, 2), 0.5, dtype=torch.float64)
    assert ece(halves, torch.tensor([0, 1, 0, 1])).item() == pytest.approx(0.0)
    # One bin 0.9 confident and 60% right: ECE 0.3.
    probs = torch.tensor([[0.9, 0.1]] * 10, dtype=torch.float64)
    assert ece(probs, torch.tensor([0] * 6 + [1] * 4)).item() == pytest.approx(0.3)


def test_ece_keeps_the_dtype_and_gives_nan_for_no_predictions():
    probs = torch.softmax(torch.randn(5, 3), dim=1)
    assert ece(probs, torch.tensor([0, 1, 2, 0, 1])).dtype == torch.float32
    assert math.isnan(ece(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)).item())


def test_confidence_is_the_largest_probability():
    probs = torch.tensor([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]])
    assert confidence(probs).tolist() == pytest.approx([0.5, 0.9])


@pytest.mark.parametrize(
    ("probs", "target", "error", "message"),
    [
        ([[0.5, 0.5]], torch.tensor([0]), TypeError, "must be a tensor"),
        (torch.tensor([[1, 0]]), torch.tensor([0]), TypeError, "floating-point"),
        (torch.tensor([0.5, 0.5]), torch.tensor([0]), ValueError, "shape (N, C)"),
        (torch.tensor([[2.0, -1.0]]), torch.tensor([0]), ValueError, "not logits"),
        (torch.tensor([[0.5, 0.4]]), torch.tensor([0]), ValueError, "sum to 1"),
        (torch.tensor([[0.5, 0.5]]), torch.tensor([0.0]), TypeError, "class indices"),
        (torch.tensor([[0.5, 0.5]]), torch.tensor([0, 1]), ValueError, "shape (N,)"),
        (torch.tensor([[0.5, 0.5]]), torch.tensor([2]), IndexError, "out of bounds"),
    ],
)
def test_bad_input_is_refused_with_a_hint(probs, target, error, message):
    with pytest.raises(error, match=HINT) as raised:
        ece(probs, target)
    assert message in str(raised.value)


@pytest.mark.parametrize(("n_bins", "error"), [(0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_the_number_of_bins_is_a_positive_int(n_bins, error):
    with pytest.raises(error, match="n_bins"):
        ece(torch.tensor([[0.5, 0.5]]), torch.tensor([0]), n_bins)


def test_bin_predictions_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="correct"):
        bin_predictions(torch.tensor([0.5, 0.6]), torch.tensor([True]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bin_predictions(torch.tensor([1.5]), torch.tensor([True]))


# --------------------------------------------------------------------------------- temperature


@st.composite
def logits_and_target(draw, max_rows=10, max_classes=5):
    n_rows, n_classes = draw(st.integers(1, max_rows)), draw(st.integers(2, max_classes))
    logits = draw(tensors((n_rows, n_classes), st.floats(-20, 20)))
    target = torch.tensor(draw(st.lists(st.integers(0, n_classes - 1), min_size=n_rows, max_size=n_rows)))
    return logits, target


@given(example=logits_and_target(), temperature=st.floats(0.05, 20))
def test_temperature_nll_is_cross_entropy_of_the_scaled_logits(example, temperature):
    logits, target = example
    expected = F.cross_entropy(logits / temperature, target)
    torch.testing.assert_close(temperature_nll(logits, target, temperature), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=300)  # each example runs Newton's method and autograd: 2,000 would take minutes
@given(example=logits_and_target())
def test_the_fitted_temperature_is_where_the_slope_vanishes(example):
    logits, target = example
    target_logits = logits[torch.arange(len(target)), target]
    assume((target_logits < logits.max(dim=1).values).any())  # else the NLL falls as T -> 0
    assume((logits.mean(dim=1) - target_logits).mean() < -1e-6)  # else it falls as T -> infinity
    temperature = fit_temperature(logits, target)
    t = torch.tensor(temperature, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(F.cross_entropy(logits / t, target), t)
    scale = 1 + logits.abs().max().item()  # the slope's rounding grows with the logits
    # The slope in beta = 1 / T is -T^2 dNLL/dT; at a large T (a tiny beta) Newton stops when its step no longer
    # changes beta, and the slope left is larger by about T (seen at T = 300 under torch 2.14.1).
    assert abs(slope.item()) * temperature**2 < 1e-8 * scale * max(1.0, temperature)
    # Newton stops at |NLL'(beta)| <= 1e-12 * scale; moving beta by 1% then changes the NLL by at most about
    # 1e-14 * scale * beta, which matters only for a tiny T (a huge beta).
    best = temperature_nll(logits, target, temperature).item()
    tolerance = 1e-12 + 1e-13 * scale / temperature
    for nearby in (temperature * 0.99, temperature * 1.01):
        assert temperature_nll(logits, target, nearby).item() >= best - tolerance, (temperature, nearby)


def test_the_fitted_temperature_is_the_best_of_a_fine_grid():
    generator = torch.Generator().manual_seed(0)
    logits = 4 * torch.randn(300, 5, generator=generator, dtype=torch.float64)
    target = torch.where(torch.rand(300, generator=generator) < 0.7, logits.argmax(dim=1), torch.randint(0, 5, (300,)))
    grid = torch.arange(0.5, 5.0, 0.001, dtype=torch.float64)
    nll = torch.stack([temperature_nll(logits, target, t) for t in grid.tolist()])
    assert fit_temperature(logits, target) == pytest.approx(grid[nll.argmin()].item(), abs=0.001)
    # Scaling the logits by k scales the best temperature by k; the predictions never change.
    assert fit_temperature(3 * logits, target) == pytest.approx(3 * fit_temperature(logits, target), rel=1e-9)


def test_without_a_minimum_there_is_no_best_temperature():
    logits = torch.tensor([[3.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="every example is predicted right"):
        fit_temperature(logits, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="no better than a uniform guess"):
        fit_temperature(logits, torch.tensor([1, 0]))


@pytest.mark.parametrize(
    ("temperature", "error"),
    [(0.0, ValueError), (-1.0, ValueError), (math.nan, ValueError), (math.inf, ValueError), (True, TypeError),
     ("2", TypeError), (torch.tensor([1.0, 2.0]), ValueError)],
)  # fmt: skip
def test_a_temperature_is_one_finite_positive_number(temperature, error):
    with pytest.raises(error, match="temperature"):
        temperature_nll(torch.zeros(2, 3), torch.tensor([0, 1]), temperature)


def test_temperature_functions_refuse_bad_logits():
    with pytest.raises(ValueError, match="finite"):
        fit_temperature(torch.tensor([[math.inf, 0.0]]), torch.tensor([1]))
    with pytest.raises(ValueError, match="no rows"):
        fit_temperature(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        fit_temperature(torch.zeros(3), torch.tensor([0, 1, 2]))
