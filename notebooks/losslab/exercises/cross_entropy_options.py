"""Self-checks for notebook 07 (the rest of CrossEntropyLoss: weight, ignore_index, sequences).

    check_weighted_mean_ce(weighted_mean_ce)   weighted_mean_ce(logits (N, C), target (N,), weight (C,)) -> ()
    check_masked_mean_ce(masked_mean_ce)       masked_mean_ce(logits (N, C), target (N,), ignore_index) -> ()
    check_sequence_ce(sequence_ce)             sequence_ce(logits (N, T, C), target (N, T)) -> (), where
                                               padded positions of target hold -100
    check_weighted_masked_mean_ce(weighted_masked_mean_ce)
                                               weighted_masked_mean_ce(logits (N, C), target (N,), weight (C,),
                                               ignore_index) -> ()
    check_training_loss(fixed_training_loss)   fixed_training_loss(model, tokens (N, T), tags (N, T)) -> (), for
                                               a Tagger (below) and tags -100 after a sentence's end

Each runs the learner's function on fixed inputs, compares with torch.nn.functional.cross_entropy
to within 1e-5, and for the typical mistakes (dividing by N, forgetting the mask, reshaping a
sequence output with view instead of permute, ...) says which one it is and how to fix it.
"""

import torch
import torch.nn.functional as F

from ._checking import Wrong, answer_name, call_answer, close, fmt, raise_first_match, self_check

TOLERANCE = 1e-5  # float32 losses of a few units, summed over a handful of samples

# Exercise 1. Class 3 is never a target (so the sum of all class weights is not the sum of the
# target weights), and rows 1 and 4 predict another class than their target.
WEIGHT_LOGITS = torch.tensor(
    [[1.5, 0.2, -0.3, 0.8], [0.1, 2.0, 0.4, -1.0], [-0.5, 0.3, 1.2, 0.9], [0.7, 1.1, -0.2, 0.0], [2.2, -0.4, 0.6, 0.3]]
)  # (5, 4)
WEIGHT_TARGET = torch.tensor([0, 2, 2, 1, 2])  # (5,)
CLASS_WEIGHT = torch.tensor([0.5, 1.0, 3.0, 2.0])  # (4,)
# Notebook 07's running example, on which the weighted mean is 0.2626 and the naive mean 0.5253.
EXAMPLE_LOGITS = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 3.0]])  # (3, 3)
EXAMPLE_TARGET = torch.tensor([0, 1, 2])  # (3,)
EXAMPLE_WEIGHT = torch.tensor([1.0, 2.0, 3.0])  # (3,)

# Exercise 2: (logits, target, ignore_index), checked in this order.
_masking_generator = torch.Generator().manual_seed(72)
MASK_LOGITS = 2 * torch.randn(5, 3, generator=_masking_generator)  # (5, 3)
NOTHING_IGNORED = (MASK_LOGITS[:3], torch.tensor([0, 1, 2]), -100)
PADDED_WITH_MINUS_100 = (MASK_LOGITS, torch.tensor([1, -100, 0, 2, -100]), -100)
PADDED_WITH_MINUS_1 = (MASK_LOGITS[:4], torch.tensor([2, 0, -1, -1]), -1)  # -1 as an index is the last class
ALL_IGNORED = (MASK_LOGITS[:3], torch.tensor([-100, -100, -100]), -100)

# Exercise 3: two sequences of lengths 4 and 2 (padded with -100) over 3 classes, then T == C = 3.
_sequence_generator = torch.Generator().manual_seed(73)
SEQUENCE_LOGITS = 2 * torch.randn(2, 4, 3, generator=_sequence_generator)  # (N, T, C) = (2, 4, 3)
SEQUENCE_TARGET = torch.tensor([[0, 2, 1, 1], [2, 0, -100, -100]])  # (N, T)
SQUARE_LOGITS = 2 * torch.randn(2, 3, 3, generator=_sequence_generator)  # (N, T, C) = (2, 3, 3)
SQUARE_TARGET = torch.tensor([[1, 0, 2], [2, 2, 0]])  # (N, T)

# Exercise 4: class weights and ignore_index together, (logits, target, weight, ignore_index) in this order.
# Class 0's weight is not 1 (so a placeholder class 0 in the ignored rows shows in the denominator), and
# with -1 as the padding value plain indexing picks the last class's loss and weight without an error.
_weighted_masking_generator = torch.Generator().manual_seed(99)  # (every typical mistake 0.14 or more away)
WEIGHTED_MASK_LOGITS = 2 * torch.randn(6, 3, generator=_weighted_masking_generator)  # (6, 3)
WEIGHTED_PADDED_WITH_MINUS_100 = (
    WEIGHTED_MASK_LOGITS,
    torch.tensor([2, -100, 0, 1, -100, 2]),
    torch.tensor([0.5, 2.0, 1.0]),
    -100,
)
WEIGHTED_PADDED_WITH_MINUS_1 = (
    WEIGHTED_MASK_LOGITS[:4],
    torch.tensor([1, -1, 2, 2]),
    torch.tensor([3.0, 1.0, 0.5]),
    -1,
)
WEIGHTED_ALL_IGNORED = (WEIGHTED_MASK_LOGITS[:2], torch.tensor([-100, -100]), torch.tensor([0.5, 2.0, 1.0]), -100)

# Exercise 5: a batch of three sentences of 5, 3 and 4 tokens, padded to T = 5, with 5 tags (T == C).
TAGGER_SEED = 10  # (seeds chosen so that every typical mistake gives a loss 0.09 or more from the right one)
_tagging_generator = torch.Generator().manual_seed(67)
TAGGER_TOKENS = torch.randint(0, 50, (3, 5), generator=_tagging_generator)  # (N, T)
TAGGER_TAGS = torch.where(
    torch.arange(5) < torch.tensor([5, 3, 4])[:, None], TAGGER_TOKENS % 5, -100
)  # (N, T): -100 after each sentence's end


class Tagger(torch.nn.Module):
    """Tags every token of a batch of sentences."""

    def __init__(self, vocab_size=50, n_tags=5, width=16):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, width)
        self.scores = torch.nn.Linear(width, n_tags)

    def forward(self, tokens):  # tokens: (N, T) token ids
        return self.scores(torch.tanh(self.embed(tokens)))


def training_loss(model, tokens, tags):
    """The training step's loss as exercise 5 gives it, with its bug."""
    return F.cross_entropy(model(tokens), tags)


def seeded_tagger(seed=TAGGER_SEED):
    """A Tagger with the weights of `seed`, made without touching the global random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Tagger()


def _scalar(result, name, what):
    if result.dim() != 0:
        raise Wrong(
            f"{name} returned shape {tuple(result.shape)}: return {what}, a single number (a 0-d tensor), "
            "not one loss per sample"
        )
    return result


def _is_nan(result):
    return bool(result.isnan().all())


# --------------------------------------------------------------------------------- exercise 1


def _weight_candidates(logits, target, weight):
    """The typical wrong weighted means, each with the sentence that names it."""
    losses = F.cross_entropy(logits, target, reduction="none")  # (N,), unweighted
    target_weight = weight[target]  # (N,)
    predicted_weight = weight[logits.argmax(dim=1)]  # (N,)
    weighted = target_weight * losses
    return [
        (
            weighted.mean(),
            "you divided the sum of the weighted losses by N (the naive mean): PyTorch divides by the sum "
            "of the target weights, weight[target].sum(), so the result is a weighted average of the losses",
        ),
        (
            weighted.sum() / weight.sum(),
            "you divided by the sum of all the class weights, weight.sum(): divide by the sum of the "
            "weights of the targets in the batch, weight[target].sum() (a class that is no sample's "
            "target, or the target of several, counts as often as it occurs)",
        ),
        (
            (predicted_weight * losses).sum() / predicted_weight.sum(),
            "you weighted each sample by its predicted class (logits.argmax): weight it by its target "
            "class, weight[target]",
        ),
        (
            (predicted_weight * losses).mean(),
            "you weighted each sample by its predicted class (logits.argmax) and divided by N: weight it "
            "by its target class, weight[target], and divide by weight[target].sum()",
        ),
        (
            losses.mean(),
            "this is the plain, unweighted mean of the losses: you forgot the weights. Multiply each "
            "sample's loss by weight[target] and divide by weight[target].sum()",
        ),
        (
            F.cross_entropy(logits * weight, target),
            "you multiplied the logits by the weights: the weight multiplies each sample's loss, "
            "-weight[y] * log_softmax(logits)[y], not the scores",
        ),
        (
            (target_weight * weighted).sum() / target_weight.sum(),
            "you applied the weights twice (e.g. to losses that F.cross_entropy(..., weight=weight, "
            "reduction='none') already weighted): multiply by weight[target] once",
        ),
        (
            (target_weight * weighted).mean(),
            "you applied the weights twice and divided by N: multiply each unweighted loss by "
            "weight[target] once, then divide by weight[target].sum()",
        ),
        (
            weighted.sum(),
            "you returned the sum of the weighted losses: divide it by the sum of the target weights, "
            "weight[target].sum()",
        ),
    ]


@self_check
def check_weighted_mean_ce(weighted_mean_ce):
    """weighted_mean_ce(logits, target, weight): PyTorch's mean with class weights, for (N, C) logits."""
    name = answer_name(weighted_mean_ce)
    for logits, target, weight in (
        (WEIGHT_LOGITS, WEIGHT_TARGET, CLASS_WEIGHT),
        (EXAMPLE_LOGITS, EXAMPLE_TARGET, EXAMPLE_WEIGHT),
    ):
        result = _scalar(call_answer(weighted_mean_ce, logits, target, weight), name, "the weighted mean")
        expected = F.cross_entropy(logits, target, weight=weight)
        if close(result, expected, TOLERANCE):
            continue
        raise_first_match(result, _weight_candidates(logits, target, weight), TOLERANCE)
        weighted_sum = (weight[target] * F.cross_entropy(logits, target, reduction="none")).sum()
        raise Wrong(
            f"for the targets {fmt(target, 'd')} and the weights {fmt(weight, 'g')} you return {fmt(result)}; "
            f"PyTorch gives {fmt(expected)}: the weighted losses sum to {fmt(weighted_sum)} and the target "
            f"weights to {fmt(weight[target].sum())}, and the mean is the first over the second"
        )
    return (
        f"{name} matches F.cross_entropy(logits, target, weight=weight): the sum of the weighted losses "
        "divided by the sum of the target weights (0.2626 on the notebook's example, not 0.5253)."
    )


# --------------------------------------------------------------------------------- exercise 2


def _call_masked(answer, *args):
    """The learner's result for args (logits, target, ..., ignore_index), explaining an index out of bounds."""
    ignore_index = args[-1]
    try:
        return call_answer(answer, *args)
    except Wrong as error:
        message = str(error).rstrip(".")
        if "out of bounds" in message or "out of range" in message:
            raise Wrong(
                f"{message}. The target {ignore_index} (the ignore_index) is no class, so picking log_probs at "
                "it fails. Replace the ignored targets by any valid class first, e.g. "
                "torch.where(ignored, 0, target), then zero those rows' losses (or, with F.cross_entropy, "
                "pass ignore_index=ignore_index on)"
            ) from None
        raise


def _mask_candidates(logits, target, ignore_index):
    ignored = target == ignore_index  # (N,)
    kept = ~ignored
    safe_target = torch.where(ignored, 0, target)
    losses = F.cross_entropy(logits, safe_target, reduction="none")  # (N,), class 0 for ignored rows
    kept_losses = torch.where(ignored, 0.0, losses)
    n_samples = target.shape[0]
    candidates = [
        (
            kept_losses.sum() / n_samples,
            f"you divided by N = {n_samples}, counting the ignored rows: the mean is over the kept rows only, "
            f"divide by (target != ignore_index).sum() = {int(kept.sum())}",
        ),
    ]
    if -logits.shape[1] <= ignore_index < 0:  # plain indexing with a negative index counts from the end
        picked = F.cross_entropy(logits, target % logits.shape[1], reduction="none")
        last = logits.shape[1] - 1
        candidates += [
            (
                picked.sum() / kept.sum(),
                f"the ignored rows were not zeroed: indexing log_probs with the target {ignore_index} picks "
                f"class {last}, the last one, so those rows added -log p[{last}] to the sum. Zero them, "
                "e.g. torch.where(ignored, 0.0, losses)",
            ),
            (
                picked.mean(),
                f"the ignored rows were neither zeroed nor left out of the count: indexing with the target "
                f"{ignore_index} picks class {last} (the last one). Zero those rows' losses and divide by "
                "the number of kept rows",
            ),
        ]
    return candidates


@self_check
def check_masked_mean_ce(masked_mean_ce):
    """masked_mean_ce(logits, target, ignore_index): the mean cross-entropy over the rows whose target
    is not ignore_index, as F.cross_entropy(logits, target, ignore_index=ignore_index)."""
    name = answer_name(masked_mean_ce)
    for logits, target, ignore_index in (NOTHING_IGNORED, PADDED_WITH_MINUS_100, PADDED_WITH_MINUS_1):
        result = _scalar(_call_masked(masked_mean_ce, logits, target, ignore_index), name, "the mean")
        expected = F.cross_entropy(logits, target, ignore_index=ignore_index)
        if close(result, expected, TOLERANCE):
            continue
        if _is_nan(result) and not (target == ignore_index).any():
            raise Wrong(
                f"{name} returns nan for the targets {fmt(target, 'd')}, where no row is ignored: your mask is "
                "inverted (it keeps the ignored rows, of which there are none, so 0 / 0). Keep the rows "
                "with target != ignore_index"
            )
        raise_first_match(result, _mask_candidates(logits, target, ignore_index), TOLERANCE)
        raise Wrong(
            f"for the targets {fmt(target, 'd')} with ignore_index={ignore_index} you return {fmt(result)}; "
            f"PyTorch gives {fmt(expected)}, the mean of the losses of the {int((target != ignore_index).sum())} "
            "kept rows"
        )

    logits, target, ignore_index = ALL_IGNORED
    result = _scalar(_call_masked(masked_mean_ce, logits, target, ignore_index), name, "the mean")
    if not _is_nan(result):
        raise Wrong(
            f"when every row is ignored (targets {fmt(target, 'd')}) PyTorch returns nan, 0 / 0; you return "
            f"{fmt(result)}. Divide the sum of the kept losses by the number of kept rows as it is, without "
            "clamping it to at least 1 (guard against empty batches outside the loss, where you can see them)"
        )
    return (
        f"{name} matches F.cross_entropy(..., ignore_index=...) with -100 and with -1 as the padding value, "
        "and gives nan, like PyTorch, when every row is ignored."
    )


# --------------------------------------------------------------------------------- exercise 3


def _call_sequence(sequence_ce, logits, target):
    try:
        return call_answer(sequence_ce, logits, target)
    except Wrong as error:
        message = str(error).rstrip(".")
        if "Expected target size" in message:
            raise Wrong(
                f"{message}. You passed the (N, T, C) logits directly: cross_entropy reads dim 1 as the "
                "classes, so it took T for C. Move the classes to dim 1 with logits.permute(0, 2, 1), or "
                "flatten both: logits.reshape(-1, C) and target.reshape(-1)"
            ) from None
        if "out of bounds" in message:
            raise Wrong(
                f"{message}. The padded positions hold -100, which is no class: leave them out, as "
                "F.cross_entropy does with its default ignore_index=-100 (don't pass another one)"
            ) from None
        if "batch_size" in message:
            raise Wrong(
                f"{message}. You flattened the logits to (N*T, C) but not the target (or the other way "
                "round): flatten both, logits.reshape(-1, C) and target.reshape(-1)"
            ) from None
        raise


def _sequence_candidates(logits, target):
    n_sequences, length, n_classes = logits.shape
    kept = target != -100  # (N, T)
    token_losses = F.cross_entropy(logits.permute(0, 2, 1), target, reduction="none")  # (N, T), 0 where padded
    candidates = [
        (
            F.cross_entropy(logits.reshape(n_sequences, n_classes, length), target),
            "you reshaped the (N, T, C) logits to (N, C, T) with view or reshape: that keeps the memory order "
            "and so scrambles which score belongs to which class and position. Use "
            "logits.permute(0, 2, 1) (or transpose(1, 2)), which moves the class dimension",
        ),
        (
            (token_losses.sum(dim=1) / kept.sum(dim=1)).mean(),
            "you averaged each sequence's losses, then averaged over the batch: with sequences of "
            f"different lengths ({', '.join(str(int(k)) for k in kept.sum(dim=1))} tokens here) that gives the "
            "tokens of short sequences more weight. PyTorch averages over all the real tokens at once",
        ),
        (
            token_losses.sum() / token_losses.numel(),
            "you divided by N*T, counting the padded positions: the mean is over the real tokens only, "
            "the positions whose target is not -100 (reduction='mean' with ignore_index does that)",
        ),
    ]
    if length == n_classes:
        candidates.insert(
            0,
            (
                F.cross_entropy(logits, target),
                "you passed the (N, T, C) logits directly: with T == C no error is raised, but cross_entropy "
                "reads dim 1 (the positions) as the classes. Use logits.permute(0, 2, 1), or flatten both "
                "logits and target",
            ),
        )
    return candidates


@self_check
def check_sequence_ce(sequence_ce):
    """sequence_ce(logits, target): mean token cross-entropy of (N, T, C) logits against (N, T) targets,
    padded positions holding -100."""
    name = answer_name(sequence_ce)
    for logits, target in ((SEQUENCE_LOGITS, SEQUENCE_TARGET), (SQUARE_LOGITS, SQUARE_TARGET)):
        result = _scalar(_call_sequence(sequence_ce, logits, target), name, "the mean over the tokens")
        expected = F.cross_entropy(logits.permute(0, 2, 1), target)
        if close(result, expected, TOLERANCE):
            continue
        if _is_nan(result):
            raise Wrong(
                f"{name} returns nan for targets with padding: the positions whose target is -100 must be "
                "left out (F.cross_entropy does it by default, ignore_index=-100)"
            )
        raise_first_match(result, _sequence_candidates(logits, target), TOLERANCE)
        raise Wrong(
            f"for logits of shape {tuple(logits.shape)} you return {fmt(result)}; the mean cross-entropy over "
            f"the real tokens is {fmt(expected)}"
        )
    return (
        f"{name} matches F.cross_entropy(logits.permute(0, 2, 1), target) on sequences of different lengths, "
        "and on a batch where T == C, in which passing the logits unpermuted would raise no error."
    )


# --------------------------------------------------------------------------------- exercise 4


def _weighted_mask_candidates(logits, target, weight, ignore_index):
    """The typical wrong means of a weighted, masked batch, each with the sentence that names it."""
    n_samples, n_classes = logits.shape
    ignored = target == ignore_index  # (N,)
    kept = ~ignored
    safe_target = torch.where(ignored, 0, target)  # class 0 as the placeholder of an ignored row
    losses = F.cross_entropy(logits, safe_target, reduction="none")  # (N,), unweighted
    kept_weighted = torch.where(ignored, 0.0, weight[safe_target] * losses)  # (N,)
    kept_weight_sum = torch.where(ignored, 0.0, weight[safe_target]).sum()
    candidates = [
        (
            kept_weighted.sum() / kept.sum(),
            f"you divided by the number of kept rows ({int(kept.sum())}): with class weights the mean is a weighted "
            "average, so divide by the sum of the kept rows' target weights, weight[target] over the rows "
            "whose target is not ignore_index",
        ),
        (
            kept_weighted.sum() / weight[safe_target].sum(),
            "your denominator still counts the ignored rows, with the weight of the placeholder class you gave "
            "them (class 0): an ignored row carries no weight, so sum weight[target] over the kept rows only",
        ),
        (
            kept_weighted.sum() / n_samples,
            f"you divided by N = {n_samples}: the mean divides by the sum of the kept rows' target weights",
        ),
        (
            kept_weighted.sum() / weight.sum(),
            "you divided by the sum of all the class weights, weight.sum(): divide by the sum of the target "
            "weights of the kept rows (a class counts as often as it is a kept row's target)",
        ),
        (
            torch.where(ignored, 0.0, losses).sum() / kept.sum(),
            "this is the masked mean without the weights: multiply each kept row's loss by weight[target] "
            "and divide by the sum of those weights",
        ),
        (
            F.cross_entropy(logits, safe_target, weight=weight),
            "the ignored rows were not left out: they count as class 0 in the losses and in the weights. "
            "Zero both for the rows whose target is ignore_index",
        ),
        (
            (weight[safe_target] * losses).sum() / kept_weight_sum,
            "the ignored rows' losses are still in the sum (as class 0): zero them before summing",
        ),
        (
            (weight[safe_target] * kept_weighted).sum() / kept_weight_sum,
            "you applied the weights twice: multiply each kept row's loss by weight[target] once",
        ),
    ]
    if -n_classes <= ignore_index < 0:  # plain indexing with a negative index counts from the end
        last = n_classes - 1
        candidates.append(
            (
                F.cross_entropy(logits, target % n_classes, weight=weight),
                f"the rows with the target {ignore_index} were not left out: indexing log_probs and weight with "
                f"{ignore_index} picks class {last}, the last one, so those rows count with class {last}'s loss "
                "and weight. Mask them (target != ignore_index) before picking",
            )
        )
    return candidates


@self_check
def check_weighted_masked_mean_ce(weighted_masked_mean_ce):
    """weighted_masked_mean_ce(logits, target, weight, ignore_index): PyTorch's mean cross-entropy with
    class weights and ignore_index together, as F.cross_entropy(logits, target, weight=weight,
    ignore_index=ignore_index)."""
    name = answer_name(weighted_masked_mean_ce)
    for logits, target, weight, ignore_index in (WEIGHTED_PADDED_WITH_MINUS_100, WEIGHTED_PADDED_WITH_MINUS_1):
        result = _scalar(_call_masked(weighted_masked_mean_ce, logits, target, weight, ignore_index), name, "the mean")
        expected = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index)
        if close(result, expected, TOLERANCE):
            continue
        raise_first_match(result, _weighted_mask_candidates(logits, target, weight, ignore_index), TOLERANCE)
        kept = target != ignore_index
        raise Wrong(
            f"for the targets {fmt(target, 'd')} with ignore_index={ignore_index} and the weights "
            f"{fmt(weight, 'g')} you return {fmt(result)}; PyTorch gives {fmt(expected)}, the sum of the kept "
            f"rows' weighted losses over the sum of their target weights, {fmt(weight[target[kept]].sum(), 'g')}"
        )

    logits, target, weight, ignore_index = WEIGHTED_ALL_IGNORED
    result = _scalar(_call_masked(weighted_masked_mean_ce, logits, target, weight, ignore_index), name, "the mean")
    if not _is_nan(result):
        raise Wrong(
            f"when every row is ignored (targets {fmt(target, 'd')}) PyTorch returns nan, 0 / 0; you return "
            f"{fmt(result)}. Divide by the sum of the kept rows' weights as it is, without clamping it"
        )
    return (
        f"{name} matches F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index): the kept rows' "
        "weighted losses over the sum of the kept rows' target weights (an ignored row adds nothing to either), "
        "with -100 and -1 as the padding value, and nan when every row is ignored."
    )


# --------------------------------------------------------------------------------- exercise 5


def _training_candidates(logits, tags):
    kept = tags != -100  # (N, T)
    token_losses = F.cross_entropy(logits.permute(0, 2, 1), tags, reduction="none")  # (N, T), 0 where padded
    return [
        (
            F.cross_entropy(logits, tags),
            "this is the loss of the snippet as it is. Read the model: nn.Linear acts on the last dimension, so "
            "model(tokens) has shape (N, T, C), tags last; cross_entropy reads dim 1 as the classes, and here "
            "T == C, so no error tells you. Permute the logits to (N, C, T): model(tokens).permute(0, 2, 1) "
            "(a view or reshape to (N, C, T) is no fix: it keeps the memory order, and with T == C it returns "
            "the very same tensor)",
        ),
        (
            (token_losses.sum(dim=1) / kept.sum(dim=1)).mean(),
            "you averaged each sentence's losses, then averaged over the batch: that gives the tokens of short "
            "sentences more weight. The training loss averages over all the real tokens at once",
        ),
        (
            token_losses.sum() / token_losses.numel(),
            "you divided by N*T, counting the padded positions: the mean is over the real tokens only, the "
            "positions whose tag is not -100",
        ),
        (
            token_losses.sum(),
            "you returned the sum over the tokens: the training step's loss is their mean (reduction='mean')",
        ),
    ]


def _call_training(fixed_training_loss, model, tokens, tags):
    try:
        return call_answer(fixed_training_loss, model, tokens, tags)
    except Wrong as error:
        message = str(error).rstrip(".")
        if "batch_size" in message:
            raise Wrong(
                f"{message}. You flattened the logits to (N*T, C) but not the tags (or the other way round): "
                "flatten both, or permute the logits to (N, C, T) instead"
            ) from None
        if "out of bounds" in message:
            raise Wrong(
                f"{message}. The padded positions hold -100, which is no tag: leave them to cross_entropy's "
                "default ignore_index=-100 (don't pass another one)"
            ) from None
        raise


@self_check
def check_training_loss(fixed_training_loss):
    """fixed_training_loss(model, tokens, tags): the loss exercise 5's training step should minimise, for a
    Tagger `model`, tokens (N, T) and tags (N, T) holding -100 after each sentence's end."""
    name = answer_name(fixed_training_loss)
    model = seeded_tagger()
    result = _scalar(_call_training(fixed_training_loss, model, TAGGER_TOKENS, TAGGER_TAGS), name, "the loss")
    with torch.no_grad():
        logits = model(TAGGER_TOKENS)  # (N, T, C)
    expected = F.cross_entropy(logits.permute(0, 2, 1), TAGGER_TAGS)
    if not close(result.detach(), expected, TOLERANCE):
        if _is_nan(result):
            raise Wrong(
                f"{name} returns nan: the padded positions (tag -100) must be left out, as cross_entropy's "
                "default ignore_index=-100 does"
            )
        raise_first_match(result.detach(), _training_candidates(logits, TAGGER_TAGS), TOLERANCE)
        raise Wrong(
            f"for this batch you return {fmt(result.detach())}; the mean cross-entropy of the real tokens is "
            f"{fmt(expected)}"
        )
    if not result.requires_grad:
        raise Wrong(
            f"{name} returns the right number, but it has no gradient (it was detached, or computed under "
            "torch.no_grad()): loss.backward() in the training step could not train the model. Return the "
            "loss tensor itself"
        )
    return (
        f"{name} is the training step's loss: the Tagger's output is (N, T, C), so the logits go to "
        "cross_entropy permuted to (N, C, T). With T == C, as here, the unpermuted call gave a number and no error."
    )
