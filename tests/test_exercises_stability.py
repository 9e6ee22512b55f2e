"""losslab.exercises.stability: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.stability import (
    check_log_sigmoid,
    check_nll,
    check_stable_cross_entropy,
    check_stable_logsumexp,
)
from losslab.logsumexp import logsumexp


def picked(values, target):
    return values[torch.arange(len(target)), target]  # (N,)


# --- Exercise 1: NLL -------------------------------------------------------------------------


def nll(log_probs, target):
    return -picked(log_probs, target).mean()


def nll_loop(log_probs, target):
    total = torch.tensor(0.0)
    for row, t in zip(log_probs, target, strict=True):
        total = total - row[t]
    return total / len(target)


@pytest.mark.parametrize(
    "answer",
    [
        nll,
        nll_loop,
        F.nll_loss,
        lambda log_probs, target: -log_probs.gather(1, target[:, None]).squeeze(1).mean(),
        lambda log_probs, target: -(log_probs * F.one_hot(target, log_probs.shape[1])).sum(dim=1).mean(),
        lambda log_probs, target: nll(torch.log_softmax(log_probs, dim=1), target),  # re-normalising changes nothing
    ],
)
def test_nll_accepts_right_answers(answer, capsys):
    assert_accepts(check_nll, answer, capsys, "3.7154")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda log_probs, target: picked(log_probs, target).mean(), "you forgot the minus sign"),
        (lambda log_probs, target: -picked(log_probs.exp(), target).mean(), "returns -0.1191, ±the mean *probability*"),
        (
            lambda log_probs, target: picked(log_probs.exp(), target).mean(),
            "you used probabilities where log-probabilities",
        ),
        (
            lambda log_probs, target: -(log_probs * F.one_hot(target, log_probs.shape[1])).mean(),
            "4 times too small: you averaged over all N·C entries",
        ),
        (
            lambda log_probs, target: -picked(log_probs, target).sum(),
            "returns 11.1463, the sum of the per-sample losses",
        ),
        (lambda log_probs, target: -log_probs[:, target].mean(), "the mean of an (N, N) matrix: log_probs[:, target]"),
        (lambda log_probs, target: -log_probs[:, target], "returns shape (3, 3) for 3 samples"),
        (lambda log_probs, target: -picked(log_probs, target), "returns one loss per sample, shape (3,)"),
        (
            lambda log_probs, target: -log_probs.gather(1, target[:, None]).mean(0),
            "returns shape (1,): return a 0-d tensor",
        ),
        (lambda log_probs, target: -picked(log_probs.log(), target).mean(), "Don't take the log again"),
        (lambda log_probs, target: -log_probs.amax(dim=1).mean(), "you picked each row's largest entry"),
        (
            lambda log_probs, target: -picked(log_probs, target).mean() + 0.5,
            "returns 4.2154 where the mean NLL is 3.7154",
        ),
        (lambda log_probs, target: -log_probs[0, target[0]], "returns 1.3951 where the mean NLL is 3.7154"),
    ],
)
def test_nll_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_nll, answer, expected, capsys)


def test_nll_catches_a_hard_coded_answer(capsys):
    """The second batch (5 samples, 3 classes) catches an answer that only fits the first."""
    assert_names_the_mistake(check_nll, lambda log_probs, target: torch.tensor(3.7154), "where the mean NLL is", capsys)


# --- Exercise 2: stable logsumexp ------------------------------------------------------------


def stable_logsumexp(logits):
    row_max = logits.amax(dim=1, keepdim=True)  # (N, 1)
    return (logits - row_max).exp().sum(dim=1).log() + row_max.squeeze(1)


def guarded_logsumexp(logits):
    row_max = logits.amax(dim=1, keepdim=True)
    row_max = torch.where(row_max.isinf(), 0.0, row_max)
    return (logits - row_max).exp().sum(dim=1).log() + row_max.squeeze(1)


@pytest.mark.parametrize(
    ("answer", "edge_case"),
    [
        (stable_logsumexp, "One edge case remains"),
        (lambda logits: torch.logsumexp(logits, dim=1), "It even gives -inf, not nan"),
        (lambda logits: logsumexp(logits, 1), "It even gives -inf, not nan"),
        (guarded_logsumexp, "It even gives -inf, not nan"),
        (
            lambda logits: (
                logits.max(dim=1).values + (logits - logits.max(dim=1, keepdim=True).values).exp().sum(1).log()
            ),
            "edge",
        ),
        (lambda logits: logsumexp(logits.double(), -1), "It even gives -inf"),
    ],
)
def test_stable_logsumexp_accepts_right_answers(answer, edge_case, capsys):
    assert_accepts(check_stable_logsumexp, answer, capsys, "(1000.0000)", "(-999.5924)", edge_case)


def test_stable_logsumexp_accepts_an_answer_that_fails_on_the_masked_row(capsys):
    """The all -inf row is mentioned, not required: an answer that raises there still passes."""

    def strict(logits):
        if logits.isinf().all(dim=1).any():
            raise ValueError("a row of all -inf")
        return stable_logsumexp(logits)

    assert_accepts(check_stable_logsumexp, strict, capsys, "One edge case remains")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda logits: logits.exp().sum(dim=1).log(), "returns [inf, -inf] for the logits [[1000, 0, -1000]"),
        (lambda logits: logits.exp().sum(dim=1).log(), "without the shift, exp(1000) overflows to inf"),
        (lambda logits: (logits - logits.amax(dim=1, keepdim=True)).exp().sum(dim=1).log(), "you forgot to add m back"),
        (
            lambda logits: (logits - logits.max()).exp().sum(dim=1).log() + logits.max(),
            "you subtracted the maximum of the whole batch (1000)",
        ),
        (
            lambda logits: (logits - logits.amax(dim=1)).exp().sum(dim=1).log() + logits.amax(dim=1),
            "logits.amax(dim=1) without keepdim has shape (N,)",
        ),
        (
            lambda logits: (logits - logits.amax(dim=0)).exp().sum(dim=1).log() + logits.amax(dim=0),
            "you took the maximum over dim 0 (each column's)",
        ),
        (
            lambda logits: (
                (logits - logits.amax(1, keepdim=True)).exp().sum(1, keepdim=True).log() + logits.amax(1, keepdim=True)
            ),
            "returns shape (3, 1): the result keeps the reduced dimension",
        ),
        (
            lambda logits: (logits - logits.amax(1, keepdim=True)).exp().sum(1).log() + logits.amax(1, keepdim=True),
            "returns shape (3, 3): you added m of shape (N, 1) to a sum of shape (N,)",
        ),
        (lambda logits: torch.logsumexp(logits, dim=0), "you reduced over dim 0 (the batch)"),
        (
            lambda logits: logits.amax(1) + (logits - logits.amax(1, keepdim=True)).exp().sum(1),
            "you forgot the log",
        ),
        (lambda logits: logits.amax(dim=1), "you return the row maximum m alone"),
        (lambda logits: torch.logsumexp(logits, dim=1)[:2], "returns shape (2,) for logits of shape (3, 3)"),
        (lambda logits: torch.logsumexp(logits, dim=1) + 0.1, "row 0: logsumexp of [2, 1, 0.1] is 2.4170"),
        (lambda logits: torch.logsumexp(logits, dim=1) / logits.shape[1], "row 2: logsumexp of [-2, 4, 1] is 4.0509"),
        (lambda logits: stable_logsumexp(logits).clamp(max=100), "row 0: logsumexp of [1000, 0, -1000] is 1000.0000"),
        (lambda logits: torch.logsumexp(logits.clamp(-50, 50), dim=1), "row 1: logsumexp of [-1000, -1001, -1002]"),
        (
            lambda logits: torch.full((logits.shape[0],), torch.nan),
            "returns [nan, nan, nan] for the logits [[2, 1, 0.1], [0.5, -0.5, 3], [-2, 4, 1]]: the answer is finite",
        ),
        (
            lambda logits: torch.logsumexp(logits, dim=1) if logits.abs().max() < 100 else torch.full((2,), torch.nan),
            "the answer is [1000.0000, -999.5924]): without the shift",
        ),
    ],
)
def test_stable_logsumexp_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_stable_logsumexp, answer, expected, capsys)


# --- Exercise 3: stable cross-entropy --------------------------------------------------------


def stable_cross_entropy(logits, target):
    log_probs = logits - logsumexp(logits, 1, keepdim=True)  # (N, C)
    return -picked(log_probs, target).mean()


@pytest.mark.parametrize(
    "answer",
    [
        stable_cross_entropy,
        F.cross_entropy,
        lambda logits, target: F.nll_loss(F.log_softmax(logits, dim=1), target),
        lambda logits, target: (torch.logsumexp(logits, dim=1) - picked(logits, target)).mean(),
        lambda logits, target: F.cross_entropy(logits.double(), target),
    ],
)
def test_stable_cross_entropy_accepts_right_answers(answer, capsys):
    assert_accepts(check_stable_cross_entropy, answer, capsys, "(3.7154 on notebook 02's worked example)", "1500.0000")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            lambda logits, target: -picked(torch.softmax(logits, dim=1).log(), target).mean(),
            "returns inf for the logits [[0, -200, 0]] with target 1 (the loss is 200.6931): you took log(softmax(z))",
        ),
        (
            lambda logits, target: -picked((logits.exp() / logits.exp().sum(1, keepdim=True)).log(), target).mean(),
            "returns nan for the logits [[100, 0, -100]] with target 0 (the loss is 0.0000): exp(100) overflows",
        ),
        (
            lambda logits, target: (logits.exp().sum(dim=1).log() - picked(logits, target)).mean(),
            "returns inf for the logits [[100, 0, -100]]",
        ),
        (lambda logits, target: -F.cross_entropy(logits, target), "you forgot the minus sign"),
        (lambda logits, target: F.cross_entropy(logits, target, reduction="sum"), "the sum of the per-sample losses"),
        (lambda logits, target: F.cross_entropy(logits, target, reduction="none"), "returns one loss per sample"),
        (lambda logits, target: F.cross_entropy(torch.softmax(logits, dim=1), target), "a double softmax"),
        (lambda logits, target: (logits.amax(dim=1) - picked(logits, target)).mean(), "the mean of m - z[target]"),
        (lambda logits, target: -F.log_softmax(logits, dim=1)[:, target].mean(), "the mean of an (N, N) matrix"),
        (lambda logits, target: -F.log_softmax(logits, dim=1)[:, target], "returns shape (3, 3) for 3 samples"),
        (lambda logits, target: -picked(torch.softmax(logits, dim=1), target).mean(), "±the mean *probability*"),
        (
            lambda logits, target: -(F.log_softmax(logits, 1) * F.one_hot(target, logits.shape[1])).mean(),
            "4 times too small",
        ),
        (
            lambda logits, target: F.cross_entropy(logits.clamp(-100, 100), target),
            "for the logits [[1000, 0, -1000], [0, 500, 1000]] with targets [2, 0]: the losses are 2000 and 1000, "
            "mean 1500.0000",
        ),
        (lambda logits, target: F.cross_entropy(logits, target) + 1, "where the mean NLL is 3.7154"),
    ],
)
def test_stable_cross_entropy_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_stable_cross_entropy, answer, expected, capsys)


# --- Exercise 4: a stable log-sigmoid (transfer) -------------------------------------------------


def zeros(z):
    return torch.zeros_like(z)


def log_sigmoid(z):
    return -torch.logsumexp(torch.stack([zeros(z), -z]), dim=0)  # log σ(z) = -LSE([0, -z])


@pytest.mark.parametrize(
    "answer",
    [
        log_sigmoid,
        F.logsigmoid,
        lambda z: -F.softplus(-z),
        lambda z: torch.minimum(z, zeros(z)) - torch.log1p(torch.exp(-z.abs())),
        lambda z: z.clamp(max=0) - torch.log1p(torch.exp(-z.abs())),
        lambda z: torch.where(z < 0, z - torch.log1p(torch.exp(z)), -torch.log1p(torch.exp(-z))),
        lambda z: -logsumexp(torch.stack([zeros(z), -z], dim=1), 1),
        lambda z: z - torch.logsumexp(torch.stack([zeros(z), z]), dim=0),  # log σ(z) = z - LSE([0, z])
        lambda z: F.log_softmax(torch.stack([zeros(z), z], dim=1), dim=1)[:, 1],  # the two-class softmax
        lambda z: F.logsigmoid(z.double()),
    ],
)
def test_log_sigmoid_accepts_right_answers(answer, capsys):
    assert_accepts(check_log_sigmoid, answer, capsys, "from z = -1000 (-1000.0000)", "log σ(0) = -0.6931")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda z: torch.log(torch.sigmoid(z)), "-inf for very negative z. Either the log comes after the sigmoid"),
        (lambda z: torch.log(torch.sigmoid(z)), "returns [-inf, -inf, -20, -1.313, -0.6931"),
        (lambda z: -torch.log1p(torch.exp(-z)), "or you wrote -log(1 + exp(-z)), right on paper"),
        (lambda z: -torch.log(1 + torch.exp(-z)), "where exp(1000) overflows to inf"),
        (lambda z: torch.log(1 / (1 + torch.exp(-z))), "σ(-1000) underflows to 0 in float32"),
        (lambda z: z - torch.log1p(torch.exp(z)), "for large positive z, e^z overflows: at z = 1000"),
        (lambda z: torch.minimum(z, zeros(z)), "you return min(z, 0), the shift alone"),
        (lambda z: z.clamp(max=0), "log σ(0) = log 0.5 = -0.6931"),
        (lambda z: F.softplus(-z), "returns 1.3133 at z = -1 (positive): the sign"),
        (lambda z: torch.log1p(torch.exp(-z)), "the sign. That is -log σ(z) = log(1 + e^(-z)), the loss of label 1"),
        (lambda z: -log_sigmoid(z), "log σ(z) is a log-probability, never above 0: -1.3133 at z = -1"),
        (lambda z: -F.softplus(z), "log σ(-z) = log(1 - σ(z)): the log-probability of label 0"),
        (lambda z: log_sigmoid(-z), "returns -0.3133 at z = -1, log σ(-z)"),
        (lambda z: torch.log(torch.sigmoid(-z)), "the log-probability of label 0"),
        (lambda z: torch.log(torch.sigmoid(z) + 1e-7), "returns -16.1181 at z = -1000, where log σ(z) = -1000.0000"),
        (lambda z: torch.log(torch.sigmoid(z).clamp_min(1e-12)), "a clamp or an eps inside the log caps the value"),
        (lambda z: torch.log(torch.exp(z) / (1 + torch.exp(z))), "returns -inf at z = -1000"),
        (lambda z: torch.log(torch.sigmoid(z.double())).float(), "for very negative z an exp overflowed to inf"),
        (lambda z: torch.where(z > 50, torch.nan, log_sigmoid(z)), "returns nan at z = 100 (log σ(z) = 0.0000)"),
        (lambda z: -torch.logsumexp(torch.stack([zeros(z), -z]), dim=1), "returns shape (2,) for z of shape (9,)"),
        (lambda z: -torch.logsumexp(torch.stack([zeros(z), -z]), dim=(0, 1)), "reduce over the dimension you stacked"),
        (lambda z: torch.stack([zeros(z), -z]), "returns shape (2, 9)"),
        (lambda z: log_sigmoid(z) + 0.01, "returns -999.9900 at z = -1000, where log σ(z) = -1000.0000"),
        (lambda z: log_sigmoid(z) * 2, "returns -2000.0000 at z = -1000"),
    ],
)
def test_log_sigmoid_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_log_sigmoid, answer, expected, capsys)
