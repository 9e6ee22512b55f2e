"""Self-checks for notebook 05 (binary cross-entropy), in the course's notation: logits z, p = sigmoid(z),
labels y in {0, 1} (soft labels q in [0, 1]), the per-element loss ℓ.

    check_bce(bce)                                    bce(probs (N, C), target (N, C)) -> () mean loss
    check_stable_bce_with_logits(stable_bce_with_logits)
                                                      stable_bce_with_logits(logits (N, C), target (N, C)) -> (N, C)
    check_weighted_bce(weighted_bce)                  weighted_bce(logits (N, C), target (N, C), pos_weight (C,)) -> (N, C)
    check_masked_bce(masked_bce)                      masked_bce(logits (N, C), target (N, C) of 0, 1, -1) -> () mean
                                                      over the annotated labels (-1 marks a missing one)

Each runs the learner's function on a few fixed inputs, compares with PyTorch, and for the
typical mistakes (arguments swapped, a missing minus sign or term, the wrong reduction, an
overflowing or clamped log, pos_weight on the wrong term or axis, missing labels kept in the sum or
in the count) says which one it is and how to fix it.
"""

import math

import torch
import torch.nn.functional as F

from ._checking import Wrong, answer_name, call_answer, close, fmt, raise_first_match, self_check

# Exercise 1: probabilities strictly inside (0, 1), so every correct formula is finite.
PROBS = torch.tensor([[0.9, 0.2, 0.6], [0.3, 0.8, 0.05], [0.7, 0.4, 0.99], [0.1, 0.5, 0.85]])  # (4, 3)
TARGET = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])  # (4, 3): labels y
SOFT_TARGET = torch.tensor([[0.8, 0.1, 0.6], [0.3, 0.9, 0.2], [0.5, 0.7, 0.95], [0.05, 0.4, 0.6]])  # (4, 3): q

# Exercise 2: ordinary logits first (formula mistakes), then extreme ones (stability mistakes).
ORDINARY_LOGITS = torch.tensor([[-2.5, -0.5, 0.0, 1.0, 3.0], [2.0, -1.5, 0.5, -3.0, 0.25]])  # (2, 5)
ORDINARY_TARGET = torch.tensor([[1.0, 0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.3, 1.0, 0.8]])  # (2, 5)
EXTREME_Z = (-1000.0, -200.0, -20.0, 0.0, 20.0, 200.0, 1000.0)
EXTREME_LOGITS = torch.tensor([EXTREME_Z] * 3)  # (3, 7)
EXTREME_TARGET = torch.tensor([[0.0] * 7, [1.0] * 7, [0.3] * 7])  # (3, 7): one label per row

# Exercise 3: a square batch first (N = C, so a per-row pos_weight runs and can be named), then
# a non-square one, then logits large enough to break log(sigmoid(z)).
SQUARE_LOGITS = torch.tensor([[1.5, -0.5, 2.0], [-1.0, 0.3, -2.5], [0.8, -1.7, 0.0]])  # (3, 3)
SQUARE_TARGET = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])  # (3, 3)
POS_WEIGHT = torch.tensor([3.0, 0.5, 10.0])  # (C,) = (3,)
WIDE_LOGITS = torch.tensor([[0.4, -2.0, 1.1], [-0.7, 2.2, -0.3]])  # (2, 3)
WIDE_TARGET = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])  # (2, 3)
LARGE_LOGITS = torch.tensor([[50.0, -50.0, 0.0], [-50.0, 50.0, 3.0]])  # (2, 3)
LARGE_TARGET = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])  # (2, 3)

# Exercise 4: multi-label batches with missing labels (-1). The first has an example with no annotated
# label at all (a per-example mean is 0/0 there); the second is not square and holds logits of ±30 and
# ±25 (sigmoid(30) rounds to 1 in float32) and a large logit under a missing label (z = 40).
MISSING = -1.0
MASKED_LOGITS = torch.tensor([[1.2, -0.4, 2.0], [-1.5, 0.8, -0.3], [0.5, 2.5, -2.0], [-0.7, 1.1, 0.9]])  # (4, 3)
MASKED_TARGET = torch.tensor(
    [[1.0, 0.0, MISSING], [MISSING, MISSING, MISSING], [0.0, 1.0, 1.0], [MISSING, 0.0, 1.0]]
)  # (4, 3): 7 annotated labels
LARGE_MASKED_LOGITS = torch.tensor([[30.0, -0.6, 1.4, -25.0], [-2.2, 0.3, 40.0, 0.0], [1.7, -30.0, -1.0, 2.4]])
LARGE_MASKED_TARGET = torch.tensor(
    [[0.0, 1.0, MISSING, 1.0], [1.0, MISSING, MISSING, 0.0], [MISSING, 1.0, 0.0, MISSING]]
)  # (3, 4): 7 annotated labels


# Same shape and values; equal infinities and nans count as equal (some typical mistakes give them).
TOLERANCES = {"tolerance": 1e-6, "rtol": 1e-6, "equal_nan": True}


def _matches(result, expected):
    return close(result, expected, **TOLERANCES)


def _check_shape(result, expected_shape, name, message):
    if tuple(result.shape) != tuple(expected_shape):
        raise Wrong(f"{name} returned shape {tuple(result.shape)}: {message}")


def _label_text(value):
    """A label as the course writes it: y = 0 or y = 1 for a hard label, q = 0.3 for a soft one."""
    value = float(value)
    return f"y = {value:g}" if value in (0.0, 1.0) else f"q = {value:g}"


def _first_difference(result, expected):
    """(row, column) of the largest difference between two (N, C) tensors (a nan counts as largest)."""
    difference = (result.double() - expected.double()).abs().nan_to_num(nan=math.inf)
    index = int(difference.flatten().argmax())
    return divmod(index, expected.shape[1])


# --- Exercise 1: BCE on probabilities, mean over every element ---------------------------------


def _bce_mistakes(probs, target):
    """The typical wrong answers for the mean BCE, each with what to say about it."""
    correct = F.binary_cross_entropy(probs, target)
    n_rows, n_classes = probs.shape
    return [
        (
            -correct,
            "the loss is negative: you forgot the minus sign. log p <= 0, so the loss is "
            "-[y log p + (1 - y) log(1 - p)], which is >= 0",
        ),
        (
            (-target * probs.log()).mean(),
            "you forgot the (1 - y) log(1 - p) term: without it an example with y = 0 costs nothing whatever p is. "
            "Add -(1 - y) log(1 - p)",
        ),
        (
            -(target * probs.log() + (1 - probs).log()).mean(),
            "you dropped the factor (1 - y) in front of log(1 - p): the term must switch off when y = 1. "
            "Use (1 - y) * log(1 - p)",
        ),
        (
            correct * n_classes,
            f"your value is {n_classes} (the number of classes) times PyTorch's: you summed over the classes and "
            "averaged over the batch only. BCELoss's mean averages over every element, N·C of them: use .mean() "
            "with no dim",
        ),
        (
            correct * n_rows,
            f"your value is {n_rows} (the batch size) times PyTorch's: you summed over the batch and averaged over "
            "the classes only. The mean is over every element: use .mean() with no dim",
        ),
        (
            correct * n_rows * n_classes,
            f"your value is {n_rows * n_classes} (the number of elements) times PyTorch's: that is the sum. "
            "Take the mean, .mean(), as reduction='mean' does",
        ),
        (
            F.binary_cross_entropy_with_logits(probs, target),
            "you passed the probabilities to a function that expects logits (binary_cross_entropy_with_logits "
            "applies a sigmoid first): on probabilities use log p and log(1 - p) directly",
        ),
        (
            correct / math.log(10),
            "you took the log in base 10: the loss uses the natural log, torch.log",
        ),
        (
            correct / math.log(2),
            "you took the log in base 2 (bits): PyTorch's loss uses the natural log, torch.log",
        ),
    ]


def _swapped(probs, target):
    return -(target.log() * probs + (1 - target).log() * (1 - probs)).mean()


@self_check
def check_bce(bce):
    """bce(probs, target) for (N, C) probabilities and labels y in {0, 1} (or soft labels q): the mean BCE, 0-d."""
    name = answer_name(bce)
    n_rows, n_classes = PROBS.shape
    loss = call_answer(bce, PROBS, TARGET)
    if tuple(loss.shape) == (n_classes,):
        raise Wrong(
            f"{name} returned shape {(n_classes,)}, one value per class: you averaged over dim 0 (the batch) only. "
            "The mean is over every element: use .mean() with no dim, which gives a single number"
        )
    if tuple(loss.shape) == (n_rows,):
        raise Wrong(
            f"{name} returned shape {(n_rows,)}, one value per example: you averaged over dim 1 (the classes) only. "
            "The mean is over every element: use .mean() with no dim, which gives a single number"
        )
    if tuple(loss.shape) == tuple(PROBS.shape):
        raise Wrong(
            f"{name} returned one loss per element, shape {tuple(PROBS.shape)}: reduce them to their mean, .mean()"
        )
    _check_shape(loss, (), name, "return a single number (a 0-d tensor), the mean loss over every element")
    expected = F.binary_cross_entropy(PROBS, TARGET)
    if not loss.isfinite():
        soft_loss = call_answer(bce, PROBS, SOFT_TARGET)
        if _matches(soft_loss, _swapped(PROBS, SOFT_TARGET)):
            raise Wrong(
                f"{name} returns {fmt(loss)} for labels 0 and 1: you swapped the arguments, writing p log y where "
                "the formula has y log p. The labels weight the log of the model's probabilities: "
                "-[y log p + (1 - y) log(1 - p)]"
            )
        raise Wrong(f"{name} returns {fmt(loss)} for probabilities all strictly inside (0, 1): the loss must be finite")
    if not _matches(loss, expected):
        raise_first_match(loss, _bce_mistakes(PROBS, TARGET), **TOLERANCES)
        raise Wrong(
            f"for the probabilities {fmt(PROBS, '.2f')} and the labels {fmt(TARGET, '.0f')} the mean BCE is "
            f"{fmt(expected)}, you return {fmt(loss)}"
        )
    soft_loss = call_answer(bce, PROBS, SOFT_TARGET)
    expected = F.binary_cross_entropy(PROBS, SOFT_TARGET)
    if _matches(soft_loss, _swapped(PROBS, SOFT_TARGET)):
        raise Wrong(
            "with soft labels your loss is -[p log q + ...]: the arguments are swapped. The labels weight the log "
            "of the model's probabilities: -[q log p + (1 - q) log(1 - p)]"
        )
    if not _matches(soft_loss, expected):
        raise Wrong(
            f"right for labels 0 and 1, but not for soft labels (q in [0, 1]): for the labels "
            f"{fmt(SOFT_TARGET, '.2f')} the mean BCE is {fmt(expected)}, you return {fmt(soft_loss)}. Use the labels "
            "as numbers, q log p + (1 - q) log(1 - p), not to choose one of the two terms"
        )
    return f"{name} matches F.binary_cross_entropy (reduction='mean') to within 1e-6, for hard and for soft labels."


# --- Exercise 2: stable BCE with logits, one loss per element -------------------------------


def _naive_log_sigmoid(logits, target):
    probs = torch.sigmoid(logits)
    return -(target * probs.log() + (1 - target) * (1 - probs).log())


@self_check
def check_stable_bce_with_logits(stable_bce_with_logits):
    """stable_bce_with_logits(logits, target), both (N, C): the per-element loss, finite for any logits."""
    name = answer_name(stable_bce_with_logits)
    shape_message = "return one loss per element, the input's shape (no reduction)"

    losses = call_answer(stable_bce_with_logits, ORDINARY_LOGITS, ORDINARY_TARGET)
    _check_shape(losses, ORDINARY_LOGITS.shape, name, shape_message)
    expected = F.binary_cross_entropy_with_logits(ORDINARY_LOGITS, ORDINARY_TARGET, reduction="none")
    if not _matches(losses, expected):
        z, y = ORDINARY_LOGITS, ORDINARY_TARGET
        softplus_neg_abs = torch.log1p(torch.exp(-z.abs()))
        mistakes = [
            (
                -z * y + softplus_neg_abs,
                "you forgot max(z, 0): for z > 0, log(1 + e^{z}) = z + log(1 + e^{-|z|}), and that z is max(z, 0). "
                "Use z.clamp(min=0) - z * y + log(1 + exp(-|z|))",
            ),
            (
                z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z)),
                "you used e^{-z} where the stable form has e^{-|z|}: for z < 0 they differ. Use torch.exp(-z.abs())",
            ),
            (
                -expected,
                "the loss is negative: you flipped the sign. The loss is max(z, 0) - z y + log(1 + e^{-|z|}), >= 0",
            ),
            (
                F.binary_cross_entropy_with_logits(z, 1 - y, reduction="none"),
                "you swapped the roles of y and 1 - y: with y = 1 the loss must be small for large z. "
                "Use max(z, 0) - z * y + log(1 + e^{-|z|})",
            ),
        ]
        raise_first_match(losses, mistakes, **TOLERANCES)
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at z = {fmt(z[row, column], 'g')}, {_label_text(y[row, column])} the loss is "
            f"{fmt(expected[row, column])}, you return {fmt(losses[row, column])}"
        )

    losses = call_answer(stable_bce_with_logits, EXTREME_LOGITS, EXTREME_TARGET)
    _check_shape(losses, EXTREME_LOGITS.shape, name, shape_message)
    expected = F.binary_cross_entropy_with_logits(EXTREME_LOGITS, EXTREME_TARGET, reduction="none")
    if not _matches(losses, expected):
        z, y = EXTREME_LOGITS, EXTREME_TARGET
        if _matches(losses, F.binary_cross_entropy(torch.sigmoid(z), y, reduction="none")):
            raise Wrong(
                f"{name} gives 100 at z = 200, y = 0 (the true loss is 200): you went through the probabilities, "
                "and BCELoss clamps each log at -100 once sigmoid(z) rounds to 0 or 1. Work with the logits: "
                "max(z, 0) - z y + log(1 + e^{-|z|})"
            )
        if _matches(losses, _naive_log_sigmoid(z, y)):
            raise Wrong(
                f"{name} returns inf and nan for logits like ±1000: log(sigmoid(z)) is log(0) = -inf once sigmoid(z) "
                "underflows to 0 (or rounds to 1 in log(1 - sigmoid(z))). Never form sigmoid(z): use "
                "max(z, 0) - z y + log(1 + e^{-|z|})"
            )
        bad = ~losses.isfinite()
        if bad.any():
            overflows_up = bool(bad[:, z[0] > 88].any())
            overflows_down = bool(bad[:, z[0] < -88].any())
            where = "z = 200 and 1000" if overflows_up and not overflows_down else "z = -200 and -1000"
            if overflows_up and overflows_down:
                where = "z = ±200 and ±1000"
            raise Wrong(
                f"{name} returns inf or nan at {where}: e^{{z}} (or e^{{-z}}) overflows float32 above 88.72, so "
                "log(1 + e^{z}) becomes inf. Write it as max(z, 0) + log(1 + e^{-|z|}): the exponent -|z| is "
                "never positive"
            )
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at z = {fmt(z[row, column], 'g')}, {_label_text(y[row, column])} the loss is "
            f"{fmt(expected[row, column])}, you return {fmt(losses[row, column])}"
        )
    return (
        f"{name} matches F.binary_cross_entropy_with_logits (reduction='none') to within 1e-6 (relative), "
        "for ordinary logits and for logits up to ±1000."
    )


# --- Exercise 3: pos_weight, one loss per element -----------------------------------------------


def _weighted_mistakes(z, y, pos_weight):
    log_p = F.logsigmoid(z)
    log_not_p = F.logsigmoid(-z)
    return [
        (
            F.binary_cross_entropy_with_logits(z, y, reduction="none"),
            "pos_weight has no effect on your loss: multiply the positive term, -y log sigmoid(z), by pos_weight",
        ),
        (
            -(y * log_p + pos_weight * (1 - y) * log_not_p),
            "you put pos_weight on the negative term, (1 - y) log(1 - p): it multiplies the positive term, "
            "-pos_weight · y · log sigmoid(z), so missed positives cost more",
        ),
        (
            pos_weight * F.binary_cross_entropy_with_logits(z, y, reduction="none"),
            "you multiplied both terms (the whole loss) by pos_weight: that is `weight`, not `pos_weight`. "
            "pos_weight multiplies only the positive term, -y log sigmoid(z)",
        ),
        (
            -(pos_weight[:, None] * y * log_p + (1 - y) * log_not_p),
            "you applied pos_weight per row (per example), e.g. with pos_weight[:, None]: it holds one weight per "
            "class and broadcasts along the last dim, pos_weight * y with pos_weight of shape (C,)",
        ),
        (
            -(pos_weight[:, None] * (y * log_p + (1 - y) * log_not_p)),
            "you applied pos_weight per row (per example), to both terms: it holds one weight per class, "
            "broadcasts along the last dim, and multiplies only the positive term",
        ),
    ]


@self_check
def check_weighted_bce(weighted_bce):
    """weighted_bce(logits, target, pos_weight): (N, C) logits and labels y, (C,) pos_weight -> (N, C) losses."""
    name = answer_name(weighted_bce)
    shape_message = "return one loss per element, the input's shape (no reduction)"
    for z, y in ((SQUARE_LOGITS, SQUARE_TARGET), (WIDE_LOGITS, WIDE_TARGET)):
        losses = call_answer(weighted_bce, z, y, POS_WEIGHT)
        _check_shape(losses, z.shape, name, shape_message)
        expected = F.binary_cross_entropy_with_logits(z, y, pos_weight=POS_WEIGHT, reduction="none")
        if _matches(losses, expected):
            continue
        raise_first_match(losses, _weighted_mistakes(z, y, POS_WEIGHT), **TOLERANCES)
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at z = {fmt(z[row, column], 'g')}, y = {fmt(y[row, column], 'g')}, pos_weight = "
            f"{fmt(POS_WEIGHT[column], 'g')} (class {column}) the loss is {fmt(expected[row, column])}, "
            f"you return {fmt(losses[row, column])}"
        )

    z, y = LARGE_LOGITS, LARGE_TARGET
    losses = call_answer(weighted_bce, z, y, POS_WEIGHT)
    _check_shape(losses, z.shape, name, shape_message)
    expected = F.binary_cross_entropy_with_logits(z, y, pos_weight=POS_WEIGHT, reduction="none")
    if not _matches(losses, expected):
        if not losses.isfinite().all():
            raise Wrong(
                f"{name} returns {fmt(losses)} for logits ±50: log(1 - sigmoid(50)) is log(0) in float32. "
                "Use the stable pieces: log sigmoid(z) = -(max(-z, 0) + log(1 + e^{-|z|})), "
                "or F.logsigmoid, and log(1 - sigmoid(z)) = log sigmoid(-z)"
            )
        if bool((losses.double() - 100).abs().lt(1e-4).any()):
            raise Wrong(
                f"{name} gives 100 at z = 50, y = 0 (the true loss is 50): you went through probabilities and "
                "BCELoss's clamp at -100. Work with the logits (log sigmoid(z) = F.logsigmoid(z))"
            )
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at z = {fmt(z[row, column], 'g')}, y = {fmt(y[row, column], 'g')} the loss is "
            f"{fmt(expected[row, column])}, you return {fmt(losses[row, column])}"
        )
    return (
        f"{name} matches F.binary_cross_entropy_with_logits(..., pos_weight=pos_weight, reduction='none') to "
        "within 1e-6, per class, and stays exact for logits of ±50."
    )


# --- Exercise 4: a multi-label loss over the annotated labels only -------------------------------


def _annotated(target):
    """(mask, count): True where a label is given (not MISSING), and how many are."""
    mask = target != MISSING
    return mask, int(mask.sum())


def _masked_mean(logits, target):
    """The right answer: the mean BCE with logits over the annotated elements."""
    mask, _ = _annotated(target)
    return F.binary_cross_entropy_with_logits(logits[mask], target[mask])


def _masked_mistakes(logits, target):
    """The typical wrong answers for the masked mean, each with what to say about it."""
    mask, count = _annotated(target)
    kept = mask.to(logits.dtype)  # (N, C): 1 where annotated, 0 where missing
    as_negatives = F.binary_cross_entropy_with_logits(logits, target.clamp(min=0), reduction="none")  # (N, C)
    with_minus_one = F.binary_cross_entropy_with_logits(logits, target, reduction="none")  # (N, C)
    masked = as_negatives * kept
    return [
        (
            with_minus_one.mean(),
            "you kept the missing labels in the loss: BCEWithLogitsLoss does not check its target, so y = -1 "
            "silently adds max(z, 0) + z + log(1 + e^{-|z|}), a loss that grows with z. Keep only the annotated "
            "elements, target != -1 (or >= 0), in the sum and in the count",
        ),
        (
            as_negatives.mean(),
            "you counted the missing labels as negatives (y = 0): a label nobody gave is not a 'no'. Leave the "
            "missing elements out of the sum and out of the count",
        ),
        (
            as_negatives.sum() / count,
            f"you divided by the number of annotated labels ({count}), but your sum still holds the missing "
            "elements, as y = 0: zero their losses (or select the annotated elements) before you sum",
        ),
        (
            with_minus_one.sum() / count,
            f"you divided by the number of annotated labels ({count}), but your sum still holds the missing "
            "elements, with y = -1: zero their losses (or select the annotated elements) before you sum",
        ),
        (
            masked.sum() / masked.numel(),
            f"you zeroed the missing labels' losses but divided by all N·C = {masked.numel()} elements: the mean "
            f"over the annotated labels divides by their number, {count}. (BCEWithLogitsLoss's weight=mask does "
            "the same: its mean divides by the number of elements, zero weights included.)",
        ),
        (
            masked.sum(),
            f"that is the sum of the annotated labels' losses: divide it by their number, {count}",
        ),
        (
            (masked.sum(dim=1) / kept.sum(dim=1)).nanmean(),
            "you averaged each example's annotated labels, then the examples: an example with one label then "
            "counts as much as one with three. Divide the summed loss of all annotated labels by their number",
        ),
        (
            (masked.sum(dim=0) / kept.sum(dim=0)).nanmean(),
            "you averaged each class's annotated labels, then the classes: a class with few labels then counts "
            "as much as one with many. Divide the summed loss of all annotated labels by their number",
        ),
        (
            as_negatives[target == 1].mean(),
            "you kept only the positive labels (y = 1): the negatives (y = 0) are annotated too. Keep every "
            "element whose label is not -1",
        ),
        (
            as_negatives[~mask].mean(),
            "you averaged over the missing labels only: your mask is the wrong way round. Keep the elements "
            "whose label is not -1",
        ),
    ]


def _per_example_mean(logits, target):
    mask, _ = _annotated(target)
    kept = mask.to(logits.dtype)
    losses = F.binary_cross_entropy_with_logits(logits, target.clamp(min=0), reduction="none") * kept
    return (losses.sum(dim=1) / kept.sum(dim=1)).mean()


def _judge_masked(name, loss, logits, target):
    """Raise Wrong naming what is wrong with `loss`, the learner's answer for (logits, target), if anything."""
    mask, count = _annotated(target)
    n_rows, n_classes = logits.shape
    if tuple(loss.shape) in ((n_rows,), (n_classes,), (n_rows, n_classes)):
        what = {(n_rows,): "one value per example", (n_classes,): "one value per class"}.get(
            tuple(loss.shape), "one loss per element"
        )
        raise Wrong(
            f"{name} returned shape {tuple(loss.shape)}, {what}: return a single number (a 0-d tensor), the mean "
            f"over the {count} annotated labels"
        )
    _check_shape(loss, (), name, f"return a single number (a 0-d tensor), the mean over the {count} annotated labels")
    expected = _masked_mean(logits, target)
    if _matches(loss, expected):
        return
    raise_first_match(loss, _masked_mistakes(logits, target), **TOLERANCES)
    if _matches(loss, F.binary_cross_entropy(torch.sigmoid(logits[mask]), target[mask])):
        raise Wrong(
            f"{name} gives {fmt(loss)} where the mean is {fmt(expected)}: you went through the probabilities, and "
            "at z = 30, y = 0 sigmoid(z) rounds to 1 in float32, so BCELoss says 100 where the loss is 30. Keep "
            "the logits: BCE with logits (or max(z, 0) - z y + log(1 + e^{-|z|})) on the annotated elements"
        )
    if not loss.isfinite():
        raise Wrong(
            f"{name} returns {fmt(loss)} for these logits: look for a log of 0 (log(sigmoid(z)) once sigmoid(z) "
            "rounds to 0 or 1: use BCE with logits), a 0 · inf, or a mean over no elements (0/0)"
        )
    raise Wrong(
        f"for the logits {fmt(logits, 'g')} and the target {fmt(target, 'g')} the mean BCE over the {count} "
        f"annotated labels is {fmt(expected)}, you return {fmt(loss)}"
    )


@self_check
def check_masked_bce(masked_bce):
    """masked_bce(logits, target): (N, C) logits and a target of 0s, 1s and -1s (missing) -> the mean BCE with
    logits over the annotated labels, a 0-d tensor."""
    name = answer_name(masked_bce)
    loss = call_answer(masked_bce, MASKED_LOGITS, MASKED_TARGET)
    if loss.dim() == 0 and loss.isnan():
        # The first batch has an example with no annotated label: a per-example mean is 0/0 there.
        other = call_answer(masked_bce, LARGE_MASKED_LOGITS, LARGE_MASKED_TARGET)
        if other.dim() == 0 and _matches(other, _per_example_mean(LARGE_MASKED_LOGITS, LARGE_MASKED_TARGET)):
            raise Wrong(
                f"{name} returns nan: you averaged each example's annotated labels first, and example 1 has none, "
                "so its mean is 0/0 = nan. Divide the summed loss of all annotated labels by their number"
            )
    _judge_masked(name, loss, MASKED_LOGITS, MASKED_TARGET)
    loss = call_answer(masked_bce, LARGE_MASKED_LOGITS, LARGE_MASKED_TARGET)
    _judge_masked(name, loss, LARGE_MASKED_LOGITS, LARGE_MASKED_TARGET)
    return (
        f"{name} averages BCE with logits over the annotated labels only: the missing ones change neither the sum "
        "nor the count, an example without labels adds nothing, and logits of ±30 stay exact."
    )
