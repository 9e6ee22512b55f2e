"""losslab.exercises.cross_entropy_options: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises import cross_entropy_options as module
from losslab.exercises.cross_entropy_options import check_masked_mean_ce, check_sequence_ce, check_weighted_mean_ce


def picked_losses(logits, target):
    """-log_softmax(logits)[n, target[n]] for every row, by indexing (negative targets count from the end)."""
    return -torch.log_softmax(logits, dim=1)[torch.arange(len(target)), target]


# --- Exercise 1: weighted mean ----------------------------------------------------------------


def weighted_mean_ce(logits, target, weight):
    losses = picked_losses(logits, target)
    target_weight = weight[target]
    return (target_weight * losses).sum() / target_weight.sum()


def weighted_loop(logits, target, weight):
    total, weights = torch.tensor(0.0), torch.tensor(0.0)
    for row, y in zip(logits, target, strict=True):
        total = total - weight[y] * torch.log_softmax(row, dim=0)[y]
        weights = weights + weight[y]
    return total / weights


def per_sample_weighted(logits, target, weight):
    return F.cross_entropy(logits, target, weight=weight, reduction="none")


def divided_by_n(logits, target, weight):
    return per_sample_weighted(logits, target, weight).mean()


def divided_by_all_class_weights(logits, target, weight):
    return per_sample_weighted(logits, target, weight).sum() / weight.sum()


def weighted_by_prediction(logits, target, weight):
    predicted_weight = weight[logits.argmax(dim=1)]
    return (predicted_weight * picked_losses(logits, target)).sum() / predicted_weight.sum()


def weighted_by_prediction_over_n(logits, target, weight):
    return (weight[logits.argmax(dim=1)] * picked_losses(logits, target)).mean()


def weights_twice(logits, target, weight):
    return (weight[target] * per_sample_weighted(logits, target, weight)).sum() / weight[target].sum()


def weights_twice_over_n(logits, target, weight):
    return (weight[target] * per_sample_weighted(logits, target, weight)).mean()


@pytest.mark.parametrize(
    "answer",
    [
        weighted_mean_ce,
        weighted_loop,
        lambda logits, target, weight: F.cross_entropy(logits, target, weight=weight),
        lambda logits, target, weight: F.nll_loss(torch.log_softmax(logits, dim=1), target, weight=weight),
        lambda logits, target, weight: weighted_mean_ce(logits.double(), target, weight.double()),
        lambda logits, target, weight: weighted_mean_ce(logits, target, 7 * weight),  # only ratios matter
    ],
)
def test_weighted_mean_accepts_right_answers(answer, capsys):
    assert_accepts(check_weighted_mean_ce, answer, capsys, "0.2626", "0.5253")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (divided_by_n, "you divided the sum of the weighted losses by N (the naive mean)"),
        (divided_by_all_class_weights, "you divided by the sum of all the class weights, weight.sum()"),
        (weighted_by_prediction, "you weighted each sample by its predicted class (logits.argmax): weight it"),
        (weighted_by_prediction_over_n, "by its predicted class (logits.argmax) and divided by N"),
        (lambda logits, target, weight: F.cross_entropy(logits, target), "you forgot the weights"),
        (lambda logits, target, weight: picked_losses(logits, target).mean(), "plain, unweighted mean"),
        (
            lambda logits, target, weight: F.cross_entropy(logits * weight, target),
            "you multiplied the logits by the weights",
        ),
        (weights_twice, "you applied the weights twice (e.g. to losses that F.cross_entropy"),
        (weights_twice_over_n, "you applied the weights twice and divided by N"),
        (lambda logits, target, weight: per_sample_weighted(logits, target, weight).sum(), "you returned the sum"),
        (per_sample_weighted, "returned shape (5,): return the weighted mean, a single number"),
        (
            lambda logits, target, weight: weighted_mean_ce(logits, target, weight) + 0.1,
            "for the targets [0, 2, 2, 1, 2] and the weights [0.5, 1, 3, 2] you return 1.5634; PyTorch gives 1.4634",
        ),
    ],
)
def test_weighted_mean_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_weighted_mean_ce, answer, expected, capsys)


def test_weighted_mean_inputs_tell_the_mistakes_apart():
    """Every named mistake gives a value of its own on the first input, none equal to the right one."""
    logits, target, weight = module.WEIGHT_LOGITS, module.WEIGHT_TARGET, module.CLASS_WEIGHT
    values = [F.cross_entropy(logits, target, weight=weight)]
    values += [value for value, _ in module._weight_candidates(logits, target, weight)]
    values = torch.stack(values)
    gaps = (values[:, None] - values[None, :]).abs() + torch.eye(len(values))
    assert gaps.min() > 1e-2
    assert weight[target].sum() != weight.sum()
    assert (logits.argmax(dim=1) != target).any()


# --- Exercise 2: masked mean ------------------------------------------------------------------


def masked_mean_ce(logits, target, ignore_index):
    ignored = target == ignore_index
    safe_target = torch.where(ignored, 0, target)
    losses = -torch.log_softmax(logits, dim=1).gather(1, safe_target[:, None])[:, 0]
    return torch.where(ignored, 0.0, losses).sum() / (~ignored).sum()


def masked_loop(logits, target, ignore_index):
    kept = [
        -torch.log_softmax(row, dim=0)[y] for row, y in zip(logits, target.tolist(), strict=True) if y != ignore_index
    ]
    return torch.stack(kept).mean() if kept else torch.tensor(float("nan"))


def masked_over_n(logits, target, ignore_index):
    ignored = target == ignore_index
    losses = F.cross_entropy(logits, torch.where(ignored, 0, target), reduction="none")
    return torch.where(ignored, 0.0, losses).sum() / len(target)


def not_zeroed_over_kept(logits, target, ignore_index):
    return picked_losses(logits, target).sum() / (target != ignore_index).sum()


def not_zeroed_over_n(logits, target, ignore_index):
    return picked_losses(logits, target).mean()


def inverted_mask(logits, target, ignore_index):
    kept = target == ignore_index  # the wrong way round
    losses = F.cross_entropy(logits, torch.where(kept, 0, target), reduction="none")
    return (losses * kept).sum() / kept.sum()


def clamped_count(logits, target, ignore_index):
    ignored = target == ignore_index
    losses = F.cross_entropy(logits, torch.where(ignored, 0, target), reduction="none")
    return torch.where(ignored, 0.0, losses).sum() / (~ignored).sum().clamp(min=1)


@pytest.mark.parametrize(
    "answer",
    [
        masked_mean_ce,
        masked_loop,
        lambda logits, target, ignore_index: F.cross_entropy(logits, target, ignore_index=ignore_index),
        lambda logits, target, ignore_index: F.cross_entropy(
            logits[target != ignore_index], target[target != ignore_index]
        ),
    ],
)
def test_masked_mean_accepts_right_answers(answer, capsys):
    assert_accepts(check_masked_mean_ce, answer, capsys, "-100 and with -1")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (masked_over_n, "you divided by N = 5, counting the ignored rows"),
        (masked_over_n, "divide by (target != ignore_index).sum() = 3"),
        (not_zeroed_over_kept, "raised IndexError: index -100 is out of bounds"),  # -100 cannot index 3 classes
        (not_zeroed_over_kept, "Replace the ignored targets by any valid class first"),
        (
            lambda logits, target, ignore_index: (
                not_zeroed_over_kept(logits, target, ignore_index)
                if ignore_index == -1
                else masked_mean_ce(logits, target, ignore_index)
            ),
            "the ignored rows were not zeroed: indexing log_probs with the target -1 picks class 2, the last one",
        ),
        (
            lambda logits, target, ignore_index: (
                not_zeroed_over_n(logits, target, ignore_index)
                if ignore_index == -1
                else masked_mean_ce(logits, target, ignore_index)
            ),
            "the ignored rows were neither zeroed nor left out of the count",
        ),
        (
            lambda logits, target, ignore_index: F.cross_entropy(logits, target),
            "raised IndexError: Target -1 is out of bounds",
        ),
        (lambda logits, target, ignore_index: F.cross_entropy(logits, target), "pass ignore_index=ignore_index on"),
        (inverted_mask, "your mask is inverted"),
        (clamped_count, "when every row is ignored (targets [-100, -100, -100]) PyTorch returns nan"),
        (clamped_count, "you return 0.0000"),
        (
            lambda logits, target, ignore_index: F.cross_entropy(
                logits, target, ignore_index=ignore_index, reduction="none"
            ),
            "returned shape (3,): return the mean",
        ),
        (
            lambda logits, target, ignore_index: masked_mean_ce(logits, target, ignore_index) * 2,
            "with ignore_index=-100 you return",
        ),
    ],
)
def test_masked_mean_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_masked_mean_ce, answer, expected, capsys)


def test_masked_mean_inputs_tell_the_mistakes_apart():
    for logits, target, ignore_index in (module.PADDED_WITH_MINUS_100, module.PADDED_WITH_MINUS_1):
        values = [F.cross_entropy(logits, target, ignore_index=ignore_index)]
        values += [value for value, _ in module._mask_candidates(logits, target, ignore_index)]
        values = torch.stack(values)
        gaps = (values[:, None] - values[None, :]).abs() + torch.eye(len(values))
        assert gaps.min() > 1e-2, ignore_index


# --- Exercise 3: sequence loss ----------------------------------------------------------------


def sequence_ce(logits, target):
    return F.cross_entropy(logits.permute(0, 2, 1), target)


def per_sequence_then_batch(logits, target):
    return torch.stack([F.cross_entropy(scores, tags) for scores, tags in zip(logits, target, strict=True)]).mean()


@pytest.mark.parametrize(
    "answer",
    [
        sequence_ce,
        lambda logits, target: F.cross_entropy(logits.transpose(1, 2), target),
        lambda logits, target: F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1)),
        lambda logits, target: F.cross_entropy(logits.flatten(0, 1), target.flatten()),
        lambda logits, target: F.cross_entropy(logits[target != -100], target[target != -100]),
    ],
)
def test_sequence_accepts_right_answers(answer, capsys):
    assert_accepts(check_sequence_ce, answer, capsys, "T == C")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda logits, target: F.cross_entropy(logits, target), "You passed the (N, T, C) logits directly"),
        (lambda logits, target: F.cross_entropy(logits, target), "Expected target size [2, 3], got [2, 4]"),
        (
            lambda logits, target: (
                sequence_ce(logits, target) if logits.shape[1] != logits.shape[2] else F.cross_entropy(logits, target)
            ),
            "with T == C no error is raised",
        ),
        (
            lambda logits, target: F.cross_entropy(
                logits.view(logits.shape[0], logits.shape[2], logits.shape[1]), target
            ),
            "you reshaped the (N, T, C) logits to (N, C, T) with view or reshape",
        ),
        (
            lambda logits, target: F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target),
            "You flattened the logits to (N*T, C) but not the target",
        ),
        (
            lambda logits, target: F.cross_entropy(logits, target.reshape(-1)),
            "Expected input batch_size (2) to match target batch_size (8)",
        ),
        (per_sequence_then_batch, "you averaged each sequence's losses, then averaged over the batch"),
        (per_sequence_then_batch, "(4, 2 tokens here)"),
        (
            lambda logits, target: F.cross_entropy(logits.permute(0, 2, 1), target, reduction="none").mean(),
            "you divided by N*T, counting the padded positions",
        ),
        (
            lambda logits, target: F.cross_entropy(logits.permute(0, 2, 1), target, ignore_index=-1),
            "The padded positions hold -100, which is no class",
        ),
        (lambda logits, target: torch.tensor(float("nan")), "returns nan for targets with padding"),
        (
            lambda logits, target: F.cross_entropy(logits.permute(0, 2, 1), target, reduction="none"),
            "returned shape (2, 4): return the mean over the tokens",
        ),
        (lambda logits, target: sequence_ce(logits, target) + 1, "for logits of shape (2, 4, 3) you return"),
    ],
)
def test_sequence_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_sequence_ce, answer, expected, capsys)


def test_sequence_inputs_tell_the_mistakes_apart():
    logits, target = module.SEQUENCE_LOGITS, module.SEQUENCE_TARGET
    values = [sequence_ce(logits, target)] + [value for value, _ in module._sequence_candidates(logits, target)]
    values = torch.stack(values)
    gaps = (values[:, None] - values[None, :]).abs() + torch.eye(len(values))
    assert gaps.min() > 1e-2
    assert (module.SEQUENCE_TARGET == -100).sum(dim=1).tolist() == [0, 2]  # sequences of different lengths
    square_logits, square_target = module.SQUARE_LOGITS, module.SQUARE_TARGET
    assert square_logits.shape[1] == square_logits.shape[2]
    assert abs(float(F.cross_entropy(square_logits, square_target) - sequence_ce(square_logits, square_target))) > 1e-2
