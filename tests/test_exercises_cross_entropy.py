"""losslab.exercises.cross_entropy: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises.cross_entropy import (
    BATCH_INPUTS,
    BATCH_TARGET,
    CONFIDENT_INPUTS,
    CONFIDENT_TARGET,
    check_cross_entropy_from_logits,
    check_fixed_training_loss,
    check_kl_divergence,
    check_soft_cross_entropy,
    make_softmax_model,
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


def kl_rows(q, p):
    return torch.xlogy(q, q / p).sum(dim=1)


@pytest.mark.parametrize(
    "answer",
    [
        kl_rows,
        lambda q, p: F.kl_div(p.log(), q, reduction="none").sum(dim=1),
        lambda q, p: torch.where(q > 0, q * (q / p).log(), 0.0).sum(dim=1),
        lambda q, p: (torch.xlogy(q, q) - q * p.log()).sum(dim=-1),
        lambda q, p: kl_rows(q.double(), p.double()),
    ],
)
def test_kl_divergence_accepts_right_answers(answer, capsys):
    assert_accepts(check_kl_divergence, answer, capsys, "one-hot q = e_y it is -log p_y")


def test_kl_divergence_takes_the_target_first(capsys):
    """The learner's function gets q (the target, with zeros in the second call) first, p (positive) second."""
    calls = []

    def records(q, p):
        calls.append((q.clone(), p.clone()))
        return kl_rows(q, p)

    assert check_kl_divergence(records) is True
    capsys.readouterr()
    (q_1, p_1), (q_2, p_2) = calls
    assert (p_1 > 0).all() and (p_2 > 0).all()
    assert (q_2 == 0).any() and not (p_2 == 0).any()
    assert torch.equal(q_2[0], torch.tensor([0.0, 0.0, 1.0, 0.0]))  # a one-hot target


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda q, p: kl_rows(p, q), "that is sum p log(p / q), the divergence in the wrong direction"),
        (lambda q, p: F.kl_div(q.log(), p, reduction="none").sum(dim=1), "F.kl_div(p.log(), q, reduction='none')"),
        (lambda q, p: -kl_rows(q, p), "the sign is wrong"),
        (lambda q, p: (q * (p / q).log()).sum(dim=1), "never negative"),
        (lambda q, p: kl_rows(q, p) / math.log(2), "you took the log in base 2"),
        (lambda q, p: (q * (q.log2() - p.log2())).sum(dim=1), "you took the log in base 2"),
        (lambda q, p: -(q * p.log()).sum(dim=1), "that is the cross-entropy H(q, p)"),
        (lambda q, p: -torch.xlogy(q, q).sum(dim=1), "that is the entropy H(q) of q"),
        (lambda q, p: F.kl_div(p, q, reduction="none").sum(dim=1), "you passed p itself where log p belongs"),
        (lambda q, p: F.kl_div(p.log(), q, reduction="none").mean(dim=1), "you averaged over the 4 classes"),
        (lambda q, p: F.kl_div(p.log(), q, reduction="batchmean"), "returned one number for 3 rows"),
        (lambda q, p: kl_rows(q, p).sum(), "no reduction over the batch"),
        (lambda q, p: F.kl_div(p.log(), q, reduction="none").sum(dim=0), "you summed over dim 0, the rows"),
        (lambda q, p: F.kl_div(p.log(), q, reduction="none"), "returned the 3 x 4 terms q log(q / p)"),
        (lambda q, p: kl_rows(q, p)[:2], "returned shape (2,): return one value per row, shape (3,)"),
        (lambda q, p: (q * (q.log() - p.log())).sum(dim=1), "0 * log 0 = 0 * (-inf) = nan"),
        (lambda q, p: (q * (q / p).log()).sum(dim=1), "Use torch.xlogy(q, q)"),
        (
            lambda q, p: kl_rows(q, p) + torch.tensor([0.0, 0.1, 0.0]),
            "row 1 is wrong: for q = [0.25, 0.25, 0.25, 0.25] and p = [0.1, 0.2, 0.3, 0.4], KL(q || p) = 0.1218, "
            "you return 0.2218",
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


# --- Exercise 4: the double softmax of a training snippet, fixed in the loss --------------------


def logits_of(model, inputs):
    return model[:-1](inputs)


def replaces_the_softmax(model, inputs, target):
    model[-1] = nn.Identity()
    return F.cross_entropy(model(inputs), target)


def removes_the_softmax_and_puts_it_back(model, inputs, target):
    softmax = model.pop(-1) if hasattr(model, "pop") else None
    loss = F.cross_entropy(model(inputs), target)
    model.append(softmax)
    return loss


def changes_a_weight(model, inputs, target):
    with torch.no_grad():
        model[0].weight.mul_(2)
    return F.cross_entropy(logits_of(model, inputs), target)


def calls_backward_itself(model, inputs, target):
    loss = F.cross_entropy(logits_of(model, inputs), target)
    loss.backward()
    return loss


def computes_on_a_copy(model, inputs, target):
    return F.cross_entropy(logits_of(copy.deepcopy(model), inputs), target)


def test_the_model_ends_in_softmax_and_has_exact_logits():
    model = make_softmax_model()
    assert [type(layer) for layer in model] == [nn.Linear, nn.ReLU, nn.Linear, nn.Softmax]
    logits = logits_of(model, BATCH_INPUTS)
    expected = [[4, 1, -2.5], [1, 4, -2.5], [-1.5, -1, 5], [2, -1, 1], [-0.5, 3, -0.5], [3, 2, -2.5]]
    assert logits.tolist() == expected  # exact: the same on every CPU
    torch.testing.assert_close(model(BATCH_INPUTS), torch.softmax(logits, dim=1), rtol=0, atol=0)
    confident = logits_of(model, CONFIDENT_INPUTS)
    assert confident.tolist()[0] == [80, 0, -40]
    assert model(CONFIDENT_INPUTS)[0, CONFIDENT_TARGET[0]] == 0  # e^-120 underflows in float32
    assert F.cross_entropy(confident, CONFIDENT_TARGET, reduction="none")[0].item() == pytest.approx(120.0)


def test_the_snippet_is_wrong_and_the_fix_is_different():
    """The check's batches tell the double softmax from the right loss."""
    model = make_softmax_model()
    right = F.cross_entropy(logits_of(model, BATCH_INPUTS), BATCH_TARGET)
    double = F.cross_entropy(model(BATCH_INPUTS), BATCH_TARGET)
    assert abs(right - double) > 0.1


@pytest.mark.parametrize(
    "answer",
    [
        lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs), target),
        lambda model, inputs, target: F.cross_entropy(model[0:3](inputs), target),
        lambda model, inputs, target: F.cross_entropy(nn.Sequential(*list(model)[:-1])(inputs), target),
        lambda model, inputs, target: F.nll_loss(torch.log_softmax(logits_of(model, inputs), dim=1), target),
        lambda model, inputs, target: nn.CrossEntropyLoss()(model[2](model[1](model[0](inputs))), target),
        lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs).double(), target),
        lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs), target).reshape(1),
        removes_the_softmax_and_puts_it_back,
    ],
)
def test_fixed_training_loss_accepts_right_answers(answer, capsys):
    assert_accepts(check_fixed_training_loss, answer, capsys, "with the right gradient", "logit gap 120")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda model, inputs, target: F.cross_entropy(model(inputs), target), "that is still the double softmax"),
        (
            lambda model, inputs, target: F.nll_loss(torch.log_softmax(model(inputs), dim=1), target),
            "that is still the double softmax",
        ),
        (
            lambda model, inputs, target: F.cross_entropy(model(inputs).log(), target),
            "right on the first batch but returns inf on a batch with a confidently wrong sample",
        ),
        (
            lambda model, inputs, target: F.nll_loss(model(inputs).log(), target),
            "You took the log of the model's probabilities",
        ),
        (
            lambda model, inputs, target: -model(inputs).log()[torch.arange(len(target)), target].mean(),
            "underflows to 0 in float32 and log 0 = -inf",
        ),
        (
            lambda model, inputs, target: F.nll_loss(model(inputs), target),
            "given the probabilities it returns -mean p_y",
        ),
        (
            lambda model, inputs, target: F.nll_loss(logits_of(model, inputs), target),
            "you removed the softmax but also the log",
        ),
        (lambda model, inputs, target: F.cross_entropy(model[:-2](inputs), target), "you removed two layers"),
        (
            lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs), target, reduction="sum"),
            "you summed over the batch",
        ),
        (
            lambda model, inputs, target: F.nll_loss(torch.log_softmax(logits_of(model, inputs), dim=0), target),
            "you took the softmax over dim 0",
        ),
        (
            lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs), target, reduction="none"),
            "returned the 6 per-sample losses: return their mean",
        ),
        (lambda model, inputs, target: logits_of(model, inputs), "returned shape (6, 3) for a batch of 6 samples"),
        (
            lambda model, inputs, target: F.nll_loss((model(inputs) + 1e-8).log(), target),
            "a small constant added inside the log (or a clamp) caps its loss",
        ),
        (
            lambda model, inputs, target: F.nll_loss(model(inputs).clamp(min=1e-12).log(), target),
            "where the loss is 60.3511 for a confidently wrong sample",
        ),
        (
            lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs).detach(), target),
            "the loss carries no gradient",
        ),
        (
            lambda model, inputs, target: torch.tensor(F.cross_entropy(logits_of(model, inputs), target).item()),
            "the loss carries no gradient",
        ),
        (
            lambda model, inputs, target: torch.tensor(
                F.cross_entropy(logits_of(model, inputs), target).item(), requires_grad=True
            ),
            "the parameter 0.weight gets no gradient",
        ),
        (computes_on_a_copy, "did you run a copy of the model"),
        (calls_backward_itself, "calls backward() itself"),
        (replaces_the_softmax, "changed the model itself"),
        (changes_a_weight, "changed the model itself"),
        (
            lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs), target) + 0.5,
            "returns 1.5547 for the batch [[2, 0.5], [0.5, 2], [-1.5, -1], [1, -1], [-0.5, 1.5], [1.5, 1]] with "
            "targets [0, 1, 2, 0, 1, 2]; the mean cross-entropy of the model's logits is 1.0547",
        ),
    ],
)
def test_fixed_training_loss_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_fixed_training_loss, answer, expected, capsys)


def test_fixed_training_loss_gradient_is_compared(capsys):
    """A loss with the right value whose gradient is not the cross-entropy's is refused, naming the parameter."""

    def wrong_gradient(model, inputs, target):
        loss = F.cross_entropy(logits_of(model, inputs), target)
        weight_sum = model[2].weight.sum()
        return loss + weight_sum - weight_sum.detach()  # same value, one more term in the gradient

    assert_names_the_mistake(
        check_fixed_training_loss, wrong_gradient, "its gradient for the parameter 2.weight", capsys
    )


def test_fixed_training_loss_leaves_its_data_alone(capsys):
    before = [tensor.clone() for tensor in (BATCH_INPUTS, BATCH_TARGET, CONFIDENT_INPUTS, CONFIDENT_TARGET)]
    check_fixed_training_loss(replaces_the_softmax)
    check_fixed_training_loss(lambda model, inputs, target: F.cross_entropy(logits_of(model, inputs), target))
    capsys.readouterr()
    after = (BATCH_INPUTS, BATCH_TARGET, CONFIDENT_INPUTS, CONFIDENT_TARGET)
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
