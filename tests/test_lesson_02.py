"""Notebook 02's facts that a lesson cell states once and a test sweeps: the information-theory identities
of sections 2-4 (in the course notation, q the target and p the model), the worked example for every
reduction against nn.CrossEntropyLoss, F.cross_entropy and losslab.cross_entropy, the floor of a
probability vector read as logits and its gap below log C, the double softmax, and where float32 rounds
the loss to 0."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.distributions import Categorical, kl_divergence

import losslab
from losslab.exercises.cross_entropy import BATCH_INPUTS, BATCH_TARGET, make_softmax_model

# Sections 2-4: the true distribution q (the target) and the forecaster's p (the model).
Q = torch.tensor([0.70, 0.20, 0.05, 0.05])
P = torch.tensor([0.40, 0.30, 0.20, 0.10])
# Sections 5-6: the worked example.
LOGITS = torch.tensor([[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]])  # (3, 4)
TARGET = torch.tensor([3, 0, 2])  # (3,)
PER_SAMPLE = [1.3951, 7.5357, 2.2155]


def printed(x):
    """A number as the notebook prints it, 4 decimals."""
    return round(float(x), 4)


def entropy(q):
    return -torch.xlogy(q, q).sum(-1)


def kl(q, p):
    return torch.xlogy(q, q / p).sum(-1)


def distributions(n_classes, zeros=False):
    """Strategy: a probability vector of n_classes entries (float64), positive unless zeros=True."""
    low = 0.0 if zeros else 1e-3
    weights = st.lists(st.floats(low, 1.0), min_size=n_classes, max_size=n_classes)
    weights = weights.filter(lambda w: sum(w) > 1e-3)
    return weights.map(lambda w: torch.tensor(w, dtype=torch.float64) / sum(w))


# ------------------------------------------------------------------ sections 2-4: H, KL, F.kl_div


def test_the_running_example_prints_what_the_notebook_says():
    assert printed(entropy(Q)) == 0.8711
    assert printed(-(Q * P.log()).sum()) == 1.0778
    assert printed(kl(Q, P)) == 0.2067
    assert printed(kl(P, Q)) == 0.2444  # the roles swapped: KL is not symmetric
    assert printed(entropy(torch.full((4,), 0.25))) == printed(math.log(4)) == 1.3863


def test_the_entropy_of_a_one_hot_distribution():
    one_hot = torch.tensor([0.0, 0.0, 0.0, 1.0])
    assert (-(one_hot * one_hot.log()).sum()).isnan()  # 0 * log 0 = 0 * (-inf) = nan
    assert torch.xlogy(one_hot, 1 / one_hot).sum() == 0
    # Categorical clamps probabilities into [eps, 1 - eps]: finite, but not exactly 0 (why the notebook uses xlogy).
    assert 0 < Categorical(probs=one_hot).entropy() < 1e-6


@settings(max_examples=500)  # facts of the lesson, not package QA (tests/test_cross_entropy.py)
@given(distributions(5, zeros=True), distributions(5))
def test_cross_entropy_is_entropy_plus_kl_and_kl_is_never_negative(q, p):
    """H(q, p) = H(q) + KL(q || p) >= H(q) (Gibbs), and KL matches torch.distributions."""
    cross_entropy = -torch.xlogy(q, p).sum()
    torch.testing.assert_close(cross_entropy, entropy(q) + kl(q, p), rtol=1e-9, atol=1e-12)
    assert kl(q, p) >= -1e-12
    torch.testing.assert_close(kl(q, p), kl_divergence(Categorical(probs=q), Categorical(probs=p)))


@settings(max_examples=500)  # facts of the lesson, not package QA (tests/test_cross_entropy.py)
@given(distributions(4))
def test_kl_is_zero_only_at_p_equal_q(p):
    assert abs(kl(p, p)) < 1e-12
    if (p - P.double()).abs().max() > 1e-3:
        assert kl(Q.double(), p) > 0


@settings(max_examples=500)  # facts of the lesson, not package QA (tests/test_cross_entropy.py)
@given(distributions(4, zeros=True), distributions(4))
def test_f_kl_div_takes_log_p_first_and_q_second(q, p):
    """F.kl_div(input=log p, target=q) is KL(q || p); swapped, the other direction; without the log, not a KL."""
    torch.testing.assert_close(F.kl_div(p.log(), q, reduction="sum"), kl(q, p), rtol=1e-9, atol=1e-12)
    if (q > 1e-3).all():
        torch.testing.assert_close(F.kl_div(q.log(), p, reduction="sum"), kl(p, q), rtol=1e-9, atol=1e-12)
    # The default "mean" averages over every element, classes included: it divides KL by C, and PyTorch warns.
    with pytest.warns(UserWarning, match="divides the total loss by both the batch size and the support size"):
        mean = F.kl_div(p.log(), q, reduction="mean")
    torch.testing.assert_close(mean, kl(q, p) / 4, rtol=1e-9, atol=1e-12)


def test_the_two_kl_div_mistakes_of_section_4():
    assert printed(F.kl_div(Q.log(), P, reduction="sum")) == 0.2444
    assert printed(F.kl_div(P, Q, reduction="sum")) == -1.2261
    assert printed(F.kl_div(P.log(), Q, reduction="sum")) == 0.2067


# ------------------------------------------------------------- sections 5-6: the worked example


def cross_entropy_loop(logits, target):
    return torch.stack(
        [-torch.log_softmax(row, dim=0)[y] for row, y in zip(logits, target, strict=True)]
    )  # as section 6 writes it


def cross_entropy_vectorised(logits, target):
    return -torch.log_softmax(logits, dim=1)[torch.arange(len(target)), target]


REDUCE = {"none": lambda losses: losses, "sum": torch.sum, "mean": torch.mean}


@pytest.mark.parametrize("ours", [cross_entropy_loop, cross_entropy_vectorised], ids=lambda f: f.__name__)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize(
    "library",
    [
        lambda logits, target, reduction: nn.CrossEntropyLoss(reduction=reduction)(logits, target),
        lambda logits, target, reduction: F.cross_entropy(logits, target, reduction=reduction),
        lambda logits, target, reduction: losslab.cross_entropy(logits, target, reduction=reduction),
    ],
    ids=["nn.CrossEntropyLoss", "F.cross_entropy", "losslab.cross_entropy"],
)
def test_ours_matches_the_library_for_every_reduction(ours, reduction, library):
    """The sweep the notebook's section 6 leaves to tests/: its one check is the mean against the module."""
    expected = library(LOGITS, TARGET, reduction)
    torch.testing.assert_close(REDUCE[reduction](ours(LOGITS, TARGET)), expected, atol=1e-6, rtol=1e-6)


def test_the_worked_example_numbers():
    losses = cross_entropy_vectorised(LOGITS, TARGET)
    assert [printed(x) for x in losses] == PER_SAMPLE
    assert printed(losses.sum()) == 11.1463 and printed(losses.mean()) == 3.7154
    probs = torch.softmax(LOGITS, dim=1)[torch.arange(3), TARGET]
    assert [printed(x) for x in probs] == [0.2478, 0.0005, 0.1091]
    assert losses[1] > losses[0] + losses[2]  # one confident mistake dominates the mean


def test_a_one_hot_target_picks_minus_log_p_y():
    log_probs = torch.log_softmax(LOGITS, dim=1)
    one_hot = F.one_hot(TARGET, 4).float()
    torch.testing.assert_close(-(one_hot * log_probs).sum(dim=1), cross_entropy_vectorised(LOGITS, TARGET))
    assert log_probs[:, TARGET].shape == (3, 3)  # the tempting shortcut: an (N, N) block


# --------------------------------------------------- section 7: the floor of probabilities as logits


def floor(n_classes):
    """The smallest loss of a probability vector read as logits: log(C - 1 + e) - 1."""
    return math.log(n_classes - 1 + math.e) - 1


def gap(n_classes):
    """How far the floor lies below log C, the loss of a uniform guess: log C - log(C - 1 + e) + 1."""
    return math.log(n_classes) - floor(n_classes)


def test_the_floor_is_only_about_one_below_log_c_for_large_c():
    """Regression (issue 11): the gap is 0.6426 at C = 4, not "about 1"; it grows towards 1 and stays below."""
    assert printed(floor(4)) == 0.7437 and printed(math.log(4)) == 1.3863
    assert printed(gap(4)) == 0.6426
    assert printed(floor(1000)) == 5.9095 and printed(gap(1000)) == 0.9983
    assert printed(floor(3)) == 0.5514  # Exercise 4's three classes
    gaps = [gap(c) for c in (2, 3, 4, 10, 100, 1000, 10**6)]
    assert gaps == sorted(gaps) and all(g < 1 for g in gaps)
    assert 1 - gap(10**6) < 1e-5
    for n_classes in (2, 4, 1000):
        assert gap(n_classes) == pytest.approx(math.log(n_classes) - math.log(n_classes - 1 + math.e) + 1)


@pytest.mark.parametrize("n_classes", [2, 3, 4, 10, 1000])
def test_a_one_hot_vector_read_as_logits_costs_exactly_the_floor(n_classes):
    one_hot = torch.zeros(n_classes, dtype=torch.float64)
    one_hot[n_classes - 1] = 1.0
    loss = F.cross_entropy(one_hot, torch.tensor(n_classes - 1))
    assert loss.item() == pytest.approx(floor(n_classes), rel=1e-12)


@settings(max_examples=500)  # facts of the lesson, not package QA (tests/test_cross_entropy.py)
@given(st.integers(2, 8).flatmap(lambda c: st.tuples(distributions(c, zeros=True), st.integers(0, c - 1))))
def test_no_probability_vector_read_as_logits_beats_the_floor(drawn):
    probs, target = drawn
    loss = F.cross_entropy(probs, torch.tensor(target))
    assert loss.item() >= floor(len(probs)) - 1e-12


# --------------------------------------------------------------- section 8 and Exercise 4: double softmax


def test_the_double_softmax_of_section_8():
    probs = torch.tensor([0.05, 0.05, 0.05, 0.85])
    target = torch.tensor(3)
    assert printed(F.cross_entropy(probs, target)) == 0.8536
    assert printed(-math.log(0.85)) == 0.1625
    assert printed(torch.softmax(probs, dim=0)[3]) == 0.4259
    assert F.nll_loss(probs.log(), target) == -torch.log(torch.tensor(0.85))


def test_the_double_softmax_of_a_model_never_goes_below_the_floor():
    """Exercise 4: whatever its weights, a model ending in nn.Softmax gives F.cross_entropy at least log(2 + e) - 1."""
    model = make_softmax_model()
    for scale in (1.0, 10.0, 1000.0):
        per_sample = F.cross_entropy(model(BATCH_INPUTS * scale), BATCH_TARGET, reduction="none")
        assert (per_sample >= floor(3) - 1e-6).all()


# ---------------------------------------------------------------- section 9: the loss never reaches 0


@pytest.mark.parametrize("gap_g", [5.0, 10.0, 15.0, 16.0, 17.0, 20.0, 30.0])
def test_float32_rounds_the_loss_to_zero_beyond_a_gap_of_16_6(gap_g):
    logits = torch.tensor([gap_g, 0.0])
    class_0 = torch.tensor(0)
    loss_64 = F.cross_entropy(logits.double(), class_0)
    loss_32 = F.cross_entropy(logits, class_0)
    assert loss_64 > 0  # never 0 mathematically, nor in float64 at these gaps
    threshold = -math.log(torch.finfo(torch.float32).eps / 2)
    assert printed(threshold) == 16.6355 == printed(24 * math.log(2))
    assert (loss_32 == 0) == (gap_g > threshold)


def test_float64_holds_on_longer_but_rounds_to_zero_too():
    """The notebook's float64 column stops at 30; past 53 log 2 = 36.7 float64 also returns exactly 0."""
    class_0 = torch.tensor(0)
    assert printed(F.cross_entropy(torch.tensor([30.0, 0.0], dtype=torch.float64), class_0).item() * 1e14) == 9.3481
    assert F.cross_entropy(torch.tensor([36.0, 0.0], dtype=torch.float64), class_0) > 0
    assert F.cross_entropy(torch.tensor([38.0, 0.0], dtype=torch.float64), class_0) == 0
