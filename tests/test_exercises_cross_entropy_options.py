"""losslab.exercises.cross_entropy_options: each check accepts right answers and names each typical mistake.

What every checker does alike (the stub, a non-callable, an answer that raises, returns no tensor or changes
its input in place, no "-0.0000") is tested once for all of them in test_exercises_all.py.
"""

import pytest
import torch
import torch.nn.functional as F

from checking import assert_accepts, assert_names_the_mistake
from losslab.exercises import cross_entropy_options as module
from losslab.exercises.cross_entropy_options import (
    Tagger,
    check_masked_mean_ce,
    check_sequence_ce,
    check_training_loss,
    check_weighted_masked_mean_ce,
    check_weighted_mean_ce,
    seeded_tagger,
    training_loss,
)


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


# --- Exercise 4: class weights and ignore_index together ----------------------------------------


def weighted_masked_mean_ce(logits, target, weight, ignore_index):
    ignored = target == ignore_index
    safe_target = torch.where(ignored, 0, target)
    losses = -torch.log_softmax(logits, dim=1).gather(1, safe_target[:, None])[:, 0]
    kept_weight = torch.where(ignored, 0.0, weight[safe_target])  # an ignored row weighs 0
    return (kept_weight * losses).sum() / kept_weight.sum()


def weighted_masked_loop(logits, target, weight, ignore_index):
    total, weights = torch.tensor(0.0), torch.tensor(0.0)
    for row, y in zip(logits, target.tolist(), strict=True):
        if y != ignore_index:
            total = total - weight[y] * torch.log_softmax(row, dim=0)[y]
            weights = weights + weight[y]
    return total / weights


def placeholder_parts(logits, target, weight, ignore_index):
    """(ignored, unweighted losses with class 0 for the ignored rows, each row's weight of that class)."""
    ignored = target == ignore_index
    safe_target = torch.where(ignored, 0, target)
    return ignored, F.cross_entropy(logits, safe_target, reduction="none"), weight[safe_target]


def over_kept_rows(logits, target, weight, ignore_index):
    ignored, losses, row_weight = placeholder_parts(logits, target, weight, ignore_index)
    return torch.where(ignored, 0.0, row_weight * losses).sum() / (~ignored).sum()


def placeholder_weight_in_denominator(logits, target, weight, ignore_index):
    ignored, losses, row_weight = placeholder_parts(logits, target, weight, ignore_index)
    return torch.where(ignored, 0.0, row_weight * losses).sum() / row_weight.sum()


def over_n(logits, target, weight, ignore_index):
    ignored, losses, row_weight = placeholder_parts(logits, target, weight, ignore_index)
    return torch.where(ignored, 0.0, row_weight * losses).sum() / len(target)


def over_all_class_weights(logits, target, weight, ignore_index):
    ignored, losses, row_weight = placeholder_parts(logits, target, weight, ignore_index)
    return torch.where(ignored, 0.0, row_weight * losses).sum() / weight.sum()


def ignored_losses_kept(logits, target, weight, ignore_index):
    ignored, losses, row_weight = placeholder_parts(logits, target, weight, ignore_index)
    return (row_weight * losses).sum() / torch.where(ignored, 0.0, row_weight).sum()


def weights_twice_masked(logits, target, weight, ignore_index):
    ignored, losses, row_weight = placeholder_parts(logits, target, weight, ignore_index)
    kept_weight = torch.where(ignored, 0.0, row_weight)
    return (kept_weight * kept_weight * losses).sum() / kept_weight.sum()


def plain_indexing(logits, target, weight, ignore_index):
    """No mask at all: fails for -100, silently reads -1 as the last class."""
    return weighted_mean_ce(logits, target, weight)


@pytest.mark.parametrize(
    "answer",
    [
        weighted_masked_mean_ce,
        weighted_masked_loop,
        lambda logits, target, weight, ignore_index: F.cross_entropy(
            logits, target, weight=weight, ignore_index=ignore_index
        ),
        lambda logits, target, weight, ignore_index: F.cross_entropy(
            logits[target != ignore_index], target[target != ignore_index], weight=weight
        ),
        lambda logits, target, weight, ignore_index: weighted_masked_mean_ce(logits, target, 3 * weight, ignore_index),
    ],
)
def test_weighted_masked_mean_accepts_right_answers(answer, capsys):
    assert_accepts(check_weighted_masked_mean_ce, answer, capsys, "sum of the kept rows' target weights", "nan")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (over_kept_rows, "you divided by the number of kept rows (4)"),
        (placeholder_weight_in_denominator, "your denominator still counts the ignored rows"),
        (over_n, "you divided by N = 6"),
        (over_all_class_weights, "you divided by the sum of all the class weights"),
        (
            lambda logits, target, weight, ignore_index: masked_mean_ce(logits, target, ignore_index),
            "without the weights",
        ),
        (
            lambda logits, target, weight, ignore_index: F.cross_entropy(
                logits, torch.where(target == ignore_index, 0, target), weight=weight
            ),
            "the ignored rows were not left out: they count as class 0",
        ),
        (ignored_losses_kept, "the ignored rows' losses are still in the sum"),
        (weights_twice_masked, "you applied the weights twice"),
        (plain_indexing, "raised IndexError: index -100 is out of bounds"),
        (plain_indexing, "Replace the ignored targets by any valid class first"),
        (
            lambda logits, target, weight, ignore_index: (
                plain_indexing(logits, target, weight, ignore_index)
                if ignore_index == -1
                else weighted_masked_mean_ce(logits, target, weight, ignore_index)
            ),
            "indexing log_probs and weight with -1 picks class 2, the last one",
        ),
        (
            lambda logits, target, weight, ignore_index: F.cross_entropy(logits, target, weight=weight),
            "raised IndexError: Target -1 is out of bounds. The target -1 (the ignore_index) is no class",
        ),
        (
            lambda logits, target, weight, ignore_index: torch.nan_to_num(
                weighted_masked_mean_ce(logits, target, weight, ignore_index)
            ),
            "when every row is ignored (targets [-100, -100]) PyTorch returns nan",
        ),
        (
            lambda logits, target, weight, ignore_index: F.cross_entropy(
                logits, target, weight=weight, ignore_index=ignore_index, reduction="none"
            ),
            "returned shape (6,): return the mean",
        ),
        (
            lambda logits, target, weight, ignore_index: (
                weighted_masked_mean_ce(logits, target, weight, ignore_index) + 0.5
            ),
            "the sum of the kept rows' weighted losses over the sum of their target weights, 4.5",
        ),
    ],
)
def test_weighted_masked_mean_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_weighted_masked_mean_ce, answer, expected, capsys)


def test_weighted_masked_mean_inputs_tell_the_mistakes_apart():
    for logits, target, weight, ignore_index in (
        module.WEIGHTED_PADDED_WITH_MINUS_100,
        module.WEIGHTED_PADDED_WITH_MINUS_1,
    ):
        values = [F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index)]
        values += [value for value, _ in module._weighted_mask_candidates(logits, target, weight, ignore_index)]
        values = torch.stack(values)
        gaps = (values[:, None] - values[None, :]).abs() + torch.eye(len(values))
        assert gaps.min() > 0.1, ignore_index
        kept = target != ignore_index
        assert weight[target[kept]].sum() != kept.sum() and weight[target[kept]].sum() != weight.sum()
        assert weight[0] != 1  # a placeholder class 0 shows in the denominator


# --- Exercise 5: the training step's bug ------------------------------------------------------


def fixed_training_loss(model, tokens, tags):
    return F.cross_entropy(model(tokens).permute(0, 2, 1), tags)


@pytest.mark.parametrize(
    "answer",
    [
        fixed_training_loss,
        lambda model, tokens, tags: F.cross_entropy(model(tokens).transpose(1, 2), tags),
        lambda model, tokens, tags: F.cross_entropy(model(tokens).reshape(-1, 5), tags.reshape(-1)),
        lambda model, tokens, tags: F.cross_entropy(model(tokens).flatten(0, 1), tags.flatten(), ignore_index=-100),
        lambda model, tokens, tags: F.cross_entropy(model(tokens).movedim(-1, 1), tags),
    ],
)
def test_training_loss_accepts_right_answers(answer, capsys):
    assert_accepts(check_training_loss, answer, capsys, "(N, T, C)", "permuted to (N, C, T)", "T == C")


def per_sentence_mean(model, tokens, tags):
    losses = F.cross_entropy(model(tokens).permute(0, 2, 1), tags, reduction="none")
    return (losses.sum(dim=1) / (tags != -100).sum(dim=1)).mean()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (training_loss, "this is the loss of the snippet as it is"),
        (training_loss, "nn.Linear acts on the last dimension, so model(tokens) has shape (N, T, C)"),
        (
            lambda model, tokens, tags: F.cross_entropy(model(tokens).view(3, 5, 5), tags),
            "a view or reshape to (N, C, T) is no fix",
        ),
        (
            lambda model, tokens, tags: F.cross_entropy(model(tokens).reshape(-1, 5), tags),
            "You flattened the logits to (N*T, C) but not the tags",
        ),
        (
            lambda model, tokens, tags: F.cross_entropy(model(tokens).permute(0, 2, 1), tags, ignore_index=0),
            "which is no tag",
        ),
        (per_sentence_mean, "you averaged each sentence's losses, then averaged over the batch"),
        (
            lambda model, tokens, tags: F.cross_entropy(model(tokens).permute(0, 2, 1), tags, reduction="none").mean(),
            "you divided by N*T, counting the padded positions",
        ),
        (
            lambda model, tokens, tags: F.cross_entropy(model(tokens).permute(0, 2, 1), tags, reduction="sum"),
            "you returned the sum over the tokens",
        ),
        (
            lambda model, tokens, tags: fixed_training_loss(model, tokens, tags).detach(),
            "it has no gradient",
        ),
        (lambda model, tokens, tags: fixed_training_loss(model, tokens, tags).item(), "returned a float"),
        (lambda model, tokens, tags: torch.tensor(float("nan")), "returns nan"),
        (
            lambda model, tokens, tags: F.cross_entropy(model(tokens).permute(0, 2, 1), tags, reduction="none"),
            "returned shape (3, 5): return the loss",
        ),
        (
            lambda model, tokens, tags: fixed_training_loss(model, tokens, tags) + 1,
            "the mean cross-entropy of the real tokens is 1.7770",
        ),
    ],
)
def test_training_loss_names_the_mistake(answer, expected, capsys):
    assert_names_the_mistake(check_training_loss, answer, expected, capsys)


def test_training_loss_inputs_tell_the_mistakes_apart():
    model = seeded_tagger()
    tokens, tags = module.TAGGER_TOKENS, module.TAGGER_TAGS
    with torch.no_grad():
        logits = model(tokens)
    assert logits.shape == (3, 5, 5)  # T == C: the unpermuted call raises no error
    values = [F.cross_entropy(logits.permute(0, 2, 1), tags)]
    values += [value for value, _ in module._training_candidates(logits, tags)]
    values = torch.stack(values)
    gaps = (values[:, None] - values[None, :]).abs() + torch.eye(len(values))
    assert gaps.min() > 0.09
    assert (tags == -100).sum(dim=1).tolist() == [0, 2, 1]  # sentences of 5, 3 and 4 tokens
    assert (tags[tags != -100] == tokens[tags != -100] % 5).all()


def test_seeded_tagger_is_reproducible_and_leaves_the_global_random_state_alone():
    state = torch.random.get_rng_state()
    first, second = seeded_tagger(), seeded_tagger()
    assert torch.equal(torch.random.get_rng_state(), state)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
    assert isinstance(first, Tagger)
