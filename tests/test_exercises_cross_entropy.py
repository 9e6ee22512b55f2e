"""losslab.exercises.cross_entropy: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.cross_entropy import (
    check_cross_entropy_from_logits,
    check_kl_divergence,
    check_soft_cross_entropy,
)


def rows(target):
    return torch.arange(len(target))


# --- Exercise 1: mean cross-entropy from logits -----------------------------------------------


def mean_cross_entropy(logits, target):
    log_probs = torch.log_softmax(logits, dim=1)
    return -log_probs[rows(target), target].mean()


def one_hot(target, logits):
    return F.one_hot(target, logits.shape[1]).to(logits.dtype)


@pytest.mark.parametrize(
    "answer",
    [
        mean_cross_entropy,
        F.cross_entropy,
        lambda logits, target: torch.nn.CrossEntropyLoss()(logits, target),
        lambda logits, target: F.nll_loss(torch.log_softmax(logits, dim=1), target),
        lambda logits, target: -(one_hot(target, logits) * torch.log_softmax(logits, dim=1)).sum(dim=1).mean(),
        lambda logits, target: mean_cross_entropy(logits.double(), target),
        lambda logits, target: mean_cross_entropy(logits, target).reshape(1),
        lambda logits, target: (torch.logsumexp(logits, dim=1) - logits[rows(target), target]).mean(),
    ],
)
def test_cross_entropy_from_logits_accepts_right_answers(answer, capsys):
    assert_accepts(check_cross_entropy_from_logits, answer, capsys, "3.7154")


def log_softmax_of_softmax(logits, target):
    return -torch.log_softmax(torch.softmax(logits, dim=1), dim=1)[rows(target), target].mean()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda logits, target: -mean_cross_entropy(logits, target), "the sign is wrong"),
        (
            lambda logits, target: -torch.softmax(logits, dim=1)[rows(target), target].mean(),
            "you used the probabilities p[target], not their logs",
        ),
        (
            lambda logits, target: (1 - torch.softmax(logits, dim=1)[rows(target), target]).mean(),
            "you used 1 - p[target], a probability",
        ),
        (lambda logits, target: F.cross_entropy(torch.softmax(logits, dim=1), target), 'a "double softmax"'),
        (log_softmax_of_softmax, "you applied softmax twice"),
        (
            lambda logits, target: (
                -torch.log(torch.softmax(torch.softmax(logits, dim=1), dim=1))[rows(target), target].mean()
            ),
            "you applied softmax twice",
        ),
        (
            lambda logits, target: -torch.log(logits[rows(target), target]).mean(),
            "did you take the log of the logits as if they were probabilities?",
        ),
        (
            lambda logits, target: -torch.log_softmax(logits, dim=0)[rows(target), target].mean(),
            "you took log_softmax over dim 0, across the batch",
        ),
        (lambda logits, target: F.cross_entropy(logits, target, reduction="sum"), "you summed over the batch"),
        (
            lambda logits, target: -(one_hot(target, logits) * torch.log_softmax(logits, dim=1)).mean(dim=1).sum(),
            "you averaged over the classes (dividing by C)",
        ),
        (
            lambda logits, target: -(one_hot(target, logits) * torch.log_softmax(logits, dim=1)).mean(),
            "you averaged over all N x C = 12 entries",
        ),
        (
            lambda logits, target: -torch.log_softmax(logits, dim=1)[:, target].mean(),
            "log_probs[:, target] picks an (N, N) block",
        ),
        (
            lambda logits, target: -torch.log_softmax(logits, dim=1)[:, target],
            "use log_probs[torch.arange(N), target]",
        ),
        (
            lambda logits, target: -torch.log_softmax(logits, dim=1).mean(),
            "you averaged -log p over every class, not only the target's",
        ),
        (
            lambda logits, target: mean_cross_entropy(logits, target) / math.log(2),
            "you took the log in base 2",
        ),
        (
            lambda logits, target: F.cross_entropy(logits, target, reduction="none"),
            "returned the 3 per-sample losses [1.3951, 7.5357, 2.2155]: return their mean",
        ),
        (
            lambda logits, target: torch.log_softmax(logits, dim=1),
            "returned shape (3, 4) for a batch of 3 samples",
        ),
        (
            lambda logits, target: -torch.log(torch.softmax(logits, dim=1))[rows(target), target].mean(),
            "returns inf for the logits [[0, 120, -5], [2, 1, 0.5]]",
        ),
        (
            lambda logits, target: -torch.log(torch.softmax(logits, dim=1))[rows(target), target].mean(),
            "not torch.log(torch.softmax(...))",
        ),
        (
            lambda logits, target: -torch.log(torch.softmax(logits, dim=1) + 1e-8)[rows(target), target].mean(),
            "a small constant added inside the log (or a clamp) caps the loss",
        ),
        (
            lambda logits, target: (
                -torch.log(torch.softmax(logits, dim=1).clamp(min=1e-12))[rows(target), target].mean()
            ),
            "where the loss is 60.9822",
        ),
        (
            lambda logits, target: mean_cross_entropy(logits, target) + 0.5,
            "returns 4.2154 for the logits [[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]] "
            "with targets [3, 0, 2]; the mean cross-entropy is 3.7154",
        ),
    ],
)
def test_cross_entropy_from_logits_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_cross_entropy_from_logits, answer, expected, capsys)


def test_cross_entropy_from_logits_mistakes_are_told_apart(capsys):
    """Each typical mistake gets its own message on the worked example: no two give the same number."""
    answers = [
        lambda logits, target: -mean_cross_entropy(logits, target),
        lambda logits, target: F.cross_entropy(torch.softmax(logits, dim=1), target),
        lambda logits, target: -torch.log_softmax(logits, dim=0)[rows(target), target].mean(),
        lambda logits, target: F.cross_entropy(logits, target, reduction="sum"),
        lambda logits, target: -(one_hot(target, logits) * torch.log_softmax(logits, dim=1)).mean(),
        lambda logits, target: -torch.log_softmax(logits, dim=1)[:, target].mean(),
    ]
    messages = []
    for answer in answers:
        assert check_cross_entropy_from_logits(answer) is False
        messages.append(capsys.readouterr().out)
    assert len(set(messages)) == len(answers)


# --- Exercise 2: KL divergence per row --------------------------------------------------------


def kl_rows(p, q):
    return torch.xlogy(p, p / q).sum(dim=1)


@pytest.mark.parametrize(
    "answer",
    [
        kl_rows,
        lambda p, q: F.kl_div(q.log(), p, reduction="none").sum(dim=1),
        lambda p, q: torch.where(p > 0, p * (p / q).log(), 0.0).sum(dim=1),
        lambda p, q: (torch.xlogy(p, p) - p * q.log()).sum(dim=-1),
        lambda p, q: kl_rows(p.double(), q.double()),
    ],
)
def test_kl_divergence_accepts_right_answers(answer, capsys):
    assert_accepts(check_kl_divergence, answer, capsys, "one-hot p")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda p, q: kl_rows(q, p), "that is KL(q || p), the wrong direction"),
        (lambda p, q: F.kl_div(p.log(), q, reduction="none").sum(dim=1), "F.kl_div(q.log(), p, reduction='none')"),
        (lambda p, q: -kl_rows(p, q), "the sign is wrong"),
        (lambda p, q: (p * (q / p).log()).sum(dim=1), "never negative"),
        (lambda p, q: kl_rows(p, q) / math.log(2), "you took the log in base 2"),
        (lambda p, q: (p * (p.log2() - q.log2())).sum(dim=1), "you took the log in base 2"),
        (lambda p, q: -(p * q.log()).sum(dim=1), "that is the cross-entropy H(p, q)"),
        (lambda p, q: -torch.xlogy(p, p).sum(dim=1), "that is the entropy H(p) of p"),
        (lambda p, q: F.kl_div(q, p, reduction="none").sum(dim=1), "you passed q itself where log q belongs"),
        (lambda p, q: F.kl_div(q.log(), p, reduction="none").mean(dim=1), "you averaged over the 4 classes"),
        (lambda p, q: F.kl_div(q.log(), p, reduction="batchmean"), "returned one number for 3 rows"),
        (lambda p, q: kl_rows(p, q).sum(), "no reduction over the batch"),
        (lambda p, q: F.kl_div(q.log(), p, reduction="none").sum(dim=0), "you summed over dim 0, the rows"),
        (lambda p, q: F.kl_div(q.log(), p, reduction="none"), "returned the 3 x 4 terms p log(p / q)"),
        (lambda p, q: kl_rows(p, q)[:2], "returned shape (2,): return one value per row, shape (3,)"),
        (lambda p, q: (p * (p.log() - q.log())).sum(dim=1), "0 * log 0 = 0 * (-inf) = nan"),
        (lambda p, q: (p * (p / q).log()).sum(dim=1), "Use torch.xlogy(p, p)"),
        (
            lambda p, q: kl_rows(p, q) + torch.tensor([0.0, 0.1, 0.0]),
            "row 1 is wrong: for p = [0.25, 0.25, 0.25, 0.25] and q = [0.1, 0.2, 0.3, 0.4], KL(p || q) = 0.1218, you return 0.2218",
        ),
    ],
)
def test_kl_divergence_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_kl_divergence, answer, expected, capsys)


# --- Exercise 3: cross-entropy with soft targets ----------------------------------------------


def soft_rows(logits, target_probs):
    return -(target_probs * torch.log_softmax(logits, dim=1)).sum(dim=1)


@pytest.mark.parametrize(
    "answer",
    [
        soft_rows,
        lambda logits, target_probs: F.cross_entropy(logits, target_probs, reduction="none"),
        lambda logits, target_probs: torch.logsumexp(logits, dim=1) - (target_probs * logits).sum(dim=1),
        lambda logits, target_probs: soft_rows(logits.double(), target_probs.double()),
    ],
)
def test_soft_cross_entropy_accepts_right_answers(answer, capsys):
    assert_accepts(check_soft_cross_entropy, answer, capsys, "probability targets")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda logits, tp: -soft_rows(logits, tp), "the sign is wrong"),
        (lambda logits, tp: -(tp * torch.softmax(logits, dim=1)).sum(dim=1), "you used the model's probabilities"),
        (
            lambda logits, tp: -(torch.softmax(logits, dim=1) * tp.log()).sum(dim=1),
            "you swapped the roles of the two distributions",
        ),
        (
            lambda logits, tp: -(tp * torch.log_softmax(logits, dim=0)).sum(dim=1),
            "you took log_softmax over dim 0, across the batch",
        ),
        (
            lambda logits, tp: F.cross_entropy(torch.softmax(logits, dim=1), tp, reduction="none"),
            'a "double softmax"',
        ),
        (lambda logits, tp: -(tp * torch.log_softmax(logits, dim=1)).mean(dim=1), "you averaged over the 4 classes"),
        (
            lambda logits, tp: F.cross_entropy(logits, tp.argmax(dim=1), reduction="none"),
            "you kept only the most likely class of each target (argmax)",
        ),
        (
            lambda logits, tp: F.kl_div(torch.log_softmax(logits, dim=1), tp, reduction="none").sum(dim=1),
            "that is KL(target || p)",
        ),
        (lambda logits, tp: F.cross_entropy(logits, tp), "returned the mean, 3.0738: return one loss per sample"),
        (lambda logits, tp: soft_rows(logits, tp).sum(), "returned one number: return one loss per sample"),
        (lambda logits, tp: -(tp * torch.log_softmax(logits, dim=1)).sum(dim=0), "you summed over dim 0, the batch"),
        (lambda logits, tp: -(tp * torch.log_softmax(logits, dim=1)), "returned the 3 x 4 terms -target * log p"),
        (lambda logits, tp: soft_rows(logits, tp)[None], "returned shape (1, 3)"),
        (
            lambda logits, tp: -(tp * torch.softmax(logits, dim=1).log()).sum(dim=1),
            "returns [nan, 1.9644] for the logits [[0, 120, -5], [2, 1, 0.5]]",
        ),
        (
            lambda logits, tp: -(tp * torch.softmax(logits, dim=1).log()).sum(dim=1),
            "not torch.log(torch.softmax(...))",
        ),
        (
            lambda logits, tp: soft_rows(logits, tp) * torch.tensor([1.0, 1.0, 2.0]),
            "row 2 is wrong: for the logits [9.3, -5.3, 7.2, -8.4] and the target [0.2, 0.1, 0.6, 0.1]",
        ),
    ],
)
def test_soft_cross_entropy_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_soft_cross_entropy, answer, expected, capsys)
