"""Self-checks for notebook 05 (binary cross-entropy).

    check_bce(bce)                                    bce(probs (N, C), labels (N, C)) -> () mean loss
    check_stable_bce_with_logits(stable_bce_with_logits)
                                                      stable_bce_with_logits(logits (N, C), labels (N, C)) -> (N, C)
    check_weighted_bce(weighted_bce)                  weighted_bce(logits (N, C), labels (N, C), pos_weight (C,)) -> (N, C)

Each runs the learner's function on a few fixed inputs, compares with PyTorch, and for the
typical mistakes (arguments swapped, a missing minus sign or term, the wrong reduction, an
overflowing or clamped log, pos_weight on the wrong term or axis) says which one it is and how
to fix it.
"""

import math

import torch
import torch.nn.functional as F

from ._checking import Wrong, answer_name, call_answer, close, fmt, raise_first_match, self_check

# Exercise 1: probabilities strictly inside (0, 1), so every correct formula is finite.
PROBS = torch.tensor([[0.9, 0.2, 0.6], [0.3, 0.8, 0.05], [0.7, 0.4, 0.99], [0.1, 0.5, 0.85]])  # (4, 3)
LABELS = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])  # (4, 3)
SOFT_LABELS = torch.tensor([[0.8, 0.1, 0.6], [0.3, 0.9, 0.2], [0.5, 0.7, 0.95], [0.05, 0.4, 0.6]])  # (4, 3)

# Exercise 2: ordinary logits first (formula mistakes), then extreme ones (stability mistakes).
ORDINARY_LOGITS = torch.tensor([[-2.5, -0.5, 0.0, 1.0, 3.0], [2.0, -1.5, 0.5, -3.0, 0.25]])  # (2, 5)
ORDINARY_LABELS = torch.tensor([[1.0, 0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.3, 1.0, 0.8]])  # (2, 5)
EXTREME_X = (-1000.0, -200.0, -20.0, 0.0, 20.0, 200.0, 1000.0)
EXTREME_LOGITS = torch.tensor([EXTREME_X] * 3)  # (3, 7)
EXTREME_LABELS = torch.tensor([[0.0] * 7, [1.0] * 7, [0.3] * 7])  # (3, 7): one label per row

# Exercise 3: a square batch first (N = C, so a per-row pos_weight runs and can be named), then
# a non-square one, then logits large enough to break log(sigmoid(x)).
SQUARE_LOGITS = torch.tensor([[1.5, -0.5, 2.0], [-1.0, 0.3, -2.5], [0.8, -1.7, 0.0]])  # (3, 3)
SQUARE_LABELS = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])  # (3, 3)
POS_WEIGHT = torch.tensor([3.0, 0.5, 10.0])  # (C,) = (3,)
WIDE_LOGITS = torch.tensor([[0.4, -2.0, 1.1], [-0.7, 2.2, -0.3]])  # (2, 3)
WIDE_LABELS = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])  # (2, 3)
LARGE_LOGITS = torch.tensor([[50.0, -50.0, 0.0], [-50.0, 50.0, 3.0]])  # (2, 3)
LARGE_LABELS = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])  # (2, 3)


# Same shape and values; equal infinities and nans count as equal (some typical mistakes give them).
TOLERANCES = {"tolerance": 1e-6, "rtol": 1e-6, "equal_nan": True}


def _matches(result, expected):
    return close(result, expected, **TOLERANCES)


def _check_shape(result, expected_shape, name, message):
    if tuple(result.shape) != tuple(expected_shape):
        raise Wrong(f"{name} returned shape {tuple(result.shape)}: {message}")


def _first_difference(result, expected):
    """(row, column) of the largest difference between two (N, C) tensors (a nan counts as largest)."""
    difference = (result.double() - expected.double()).abs().nan_to_num(nan=math.inf)
    index = int(difference.flatten().argmax())
    return divmod(index, expected.shape[1])


# --- Exercise 1: BCE on probabilities, mean over every element ---------------------------------


def _bce_mistakes(probs, labels):
    """The typical wrong answers for the mean BCE, each with what to say about it."""
    correct = F.binary_cross_entropy(probs, labels)
    n_rows, n_classes = probs.shape
    return [
        (
            -correct,
            "the loss is negative: you forgot the minus sign. log p <= 0, so the loss is "
            "-[y log p + (1 - y) log(1 - p)], which is >= 0",
        ),
        (
            (-labels * probs.log()).mean(),
            "you forgot the (1 - y) log(1 - p) term: without it an example with y = 0 costs nothing whatever p is. "
            "Add -(1 - y) log(1 - p)",
        ),
        (
            -(labels * probs.log() + (1 - probs).log()).mean(),
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
            F.binary_cross_entropy_with_logits(probs, labels),
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


def _swapped(probs, labels):
    return -(labels.log() * probs + (1 - labels).log() * (1 - probs)).mean()


@self_check
def check_bce(bce):
    """bce(probs, labels) for (N, C) probabilities and 0/1 (or soft) labels: the mean BCE, a 0-d tensor."""
    name = answer_name(bce)
    n_rows, n_classes = PROBS.shape
    loss = call_answer(bce, PROBS, LABELS)
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
    expected = F.binary_cross_entropy(PROBS, LABELS)
    if not loss.isfinite():
        soft_loss = call_answer(bce, PROBS, SOFT_LABELS)
        if _matches(soft_loss, _swapped(PROBS, SOFT_LABELS)):
            raise Wrong(
                f"{name} returns {fmt(loss)} for labels 0 and 1: you swapped the arguments, writing p log y where "
                "the formula has y log p. The labels weight the log of the model's probabilities: "
                "-[y log p + (1 - y) log(1 - p)]"
            )
        raise Wrong(f"{name} returns {fmt(loss)} for probabilities all strictly inside (0, 1): the loss must be finite")
    if not _matches(loss, expected):
        raise_first_match(loss, _bce_mistakes(PROBS, LABELS), **TOLERANCES)
        raise Wrong(
            f"for the probabilities {fmt(PROBS, '.2f')} and the labels {fmt(LABELS, '.0f')} the mean BCE is "
            f"{fmt(expected)}, you return {fmt(loss)}"
        )
    soft_loss = call_answer(bce, PROBS, SOFT_LABELS)
    expected = F.binary_cross_entropy(PROBS, SOFT_LABELS)
    if _matches(soft_loss, _swapped(PROBS, SOFT_LABELS)):
        raise Wrong(
            "with soft labels your loss is -[p log y + ...]: the arguments are swapped. The labels weight the log "
            "of the model's probabilities: -[y log p + (1 - y) log(1 - p)]"
        )
    if not _matches(soft_loss, expected):
        raise Wrong(
            f"right for labels 0 and 1, but not for soft labels (y in [0, 1]): for the labels "
            f"{fmt(SOFT_LABELS, '.2f')} the mean BCE is {fmt(expected)}, you return {fmt(soft_loss)}. Use the labels "
            "as numbers, y log p + (1 - y) log(1 - p), not to choose one of the two terms"
        )
    return f"{name} matches F.binary_cross_entropy (reduction='mean') to within 1e-6, for hard and for soft labels."


# --- Exercise 2: stable BCE with logits, one loss per element -------------------------------


def _naive_log_sigmoid(logits, labels):
    probs = torch.sigmoid(logits)
    return -(labels * probs.log() + (1 - labels) * (1 - probs).log())


@self_check
def check_stable_bce_with_logits(stable_bce_with_logits):
    """stable_bce_with_logits(logits, labels), both (N, C): the per-element loss, finite for any logits."""
    name = answer_name(stable_bce_with_logits)
    shape_message = "return one loss per element, the input's shape (no reduction)"

    losses = call_answer(stable_bce_with_logits, ORDINARY_LOGITS, ORDINARY_LABELS)
    _check_shape(losses, ORDINARY_LOGITS.shape, name, shape_message)
    expected = F.binary_cross_entropy_with_logits(ORDINARY_LOGITS, ORDINARY_LABELS, reduction="none")
    if not _matches(losses, expected):
        x, y = ORDINARY_LOGITS, ORDINARY_LABELS
        softplus_neg_abs = torch.log1p(torch.exp(-x.abs()))
        mistakes = [
            (
                -x * y + softplus_neg_abs,
                "you forgot max(x, 0): for x > 0, log(1 + e^{x}) = x + log(1 + e^{-|x|}), and that x is max(x, 0). "
                "Use x.clamp(min=0) - x * y + log(1 + exp(-|x|))",
            ),
            (
                x.clamp(min=0) - x * y + torch.log1p(torch.exp(-x)),
                "you used e^{-x} where the stable form has e^{-|x|}: for x < 0 they differ. Use torch.exp(-x.abs())",
            ),
            (
                -expected,
                "the loss is negative: you flipped the sign. The loss is max(x, 0) - x y + log(1 + e^{-|x|}), >= 0",
            ),
            (
                F.binary_cross_entropy_with_logits(x, 1 - y, reduction="none"),
                "you swapped the roles of y and 1 - y: with y = 1 the loss must be small for large x. "
                "Use max(x, 0) - x * y + log(1 + e^{-|x|})",
            ),
        ]
        raise_first_match(losses, mistakes, **TOLERANCES)
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at x = {fmt(x[row, column], 'g')}, y = {fmt(y[row, column], 'g')} the loss is "
            f"{fmt(expected[row, column])}, you return {fmt(losses[row, column])}"
        )

    losses = call_answer(stable_bce_with_logits, EXTREME_LOGITS, EXTREME_LABELS)
    _check_shape(losses, EXTREME_LOGITS.shape, name, shape_message)
    expected = F.binary_cross_entropy_with_logits(EXTREME_LOGITS, EXTREME_LABELS, reduction="none")
    if not _matches(losses, expected):
        x, y = EXTREME_LOGITS, EXTREME_LABELS
        if _matches(losses, F.binary_cross_entropy(torch.sigmoid(x), y, reduction="none")):
            raise Wrong(
                f"{name} gives 100 at x = 200, y = 0 (the true loss is 200): you went through the probabilities, "
                "and BCELoss clamps each log at -100 once sigmoid(x) rounds to 0 or 1. Work with the logits: "
                "max(x, 0) - x y + log(1 + e^{-|x|})"
            )
        if _matches(losses, _naive_log_sigmoid(x, y)):
            raise Wrong(
                f"{name} returns inf and nan for logits like ±1000: log(sigmoid(x)) is log(0) = -inf once sigmoid(x) "
                "underflows to 0 (or rounds to 1 in log(1 - sigmoid(x))). Never form sigmoid(x): use "
                "max(x, 0) - x y + log(1 + e^{-|x|})"
            )
        bad = ~losses.isfinite()
        if bad.any():
            overflows_up = bool(bad[:, x[0] > 88].any())
            overflows_down = bool(bad[:, x[0] < -88].any())
            where = "x = 200 and 1000" if overflows_up and not overflows_down else "x = -200 and -1000"
            if overflows_up and overflows_down:
                where = "x = ±200 and ±1000"
            raise Wrong(
                f"{name} returns inf or nan at {where}: e^{{x}} (or e^{{-x}}) overflows float32 above 88.72, so "
                "log(1 + e^{x}) becomes inf. Write it as max(x, 0) + log(1 + e^{-|x|}): the exponent -|x| is "
                "never positive"
            )
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at x = {fmt(x[row, column], 'g')}, y = {fmt(y[row, column], 'g')} the loss is "
            f"{fmt(expected[row, column])}, you return {fmt(losses[row, column])}"
        )
    return (
        f"{name} matches F.binary_cross_entropy_with_logits (reduction='none') to within 1e-6 (relative), "
        "for ordinary logits and for logits up to ±1000."
    )


# --- Exercise 3: pos_weight, one loss per element -----------------------------------------------


def _weighted_mistakes(x, y, pos_weight):
    log_p = F.logsigmoid(x)
    log_not_p = F.logsigmoid(-x)
    return [
        (
            F.binary_cross_entropy_with_logits(x, y, reduction="none"),
            "pos_weight has no effect on your loss: multiply the positive term, -y log sigmoid(x), by pos_weight",
        ),
        (
            -(y * log_p + pos_weight * (1 - y) * log_not_p),
            "you put pos_weight on the negative term, (1 - y) log(1 - p): it multiplies the positive term, "
            "-pos_weight · y · log sigmoid(x), so missed positives cost more",
        ),
        (
            pos_weight * F.binary_cross_entropy_with_logits(x, y, reduction="none"),
            "you multiplied both terms (the whole loss) by pos_weight: that is `weight`, not `pos_weight`. "
            "pos_weight multiplies only the positive term, -y log sigmoid(x)",
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
    """weighted_bce(logits, labels, pos_weight): (N, C) logits and labels, (C,) pos_weight -> (N, C) losses."""
    name = answer_name(weighted_bce)
    shape_message = "return one loss per element, the input's shape (no reduction)"
    for x, y in ((SQUARE_LOGITS, SQUARE_LABELS), (WIDE_LOGITS, WIDE_LABELS)):
        losses = call_answer(weighted_bce, x, y, POS_WEIGHT)
        _check_shape(losses, x.shape, name, shape_message)
        expected = F.binary_cross_entropy_with_logits(x, y, pos_weight=POS_WEIGHT, reduction="none")
        if _matches(losses, expected):
            continue
        raise_first_match(losses, _weighted_mistakes(x, y, POS_WEIGHT), **TOLERANCES)
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at x = {fmt(x[row, column], 'g')}, y = {fmt(y[row, column], 'g')}, pos_weight = "
            f"{fmt(POS_WEIGHT[column], 'g')} (class {column}) the loss is {fmt(expected[row, column])}, "
            f"you return {fmt(losses[row, column])}"
        )

    x, y = LARGE_LOGITS, LARGE_LABELS
    losses = call_answer(weighted_bce, x, y, POS_WEIGHT)
    _check_shape(losses, x.shape, name, shape_message)
    expected = F.binary_cross_entropy_with_logits(x, y, pos_weight=POS_WEIGHT, reduction="none")
    if not _matches(losses, expected):
        if not losses.isfinite().all():
            raise Wrong(
                f"{name} returns {fmt(losses)} for logits ±50: log(1 - sigmoid(50)) is log(0) in float32. "
                "Use the stable pieces: log sigmoid(x) = -(max(-x, 0) + log(1 + e^{-|x|})), "
                "or F.logsigmoid, and log(1 - sigmoid(x)) = log sigmoid(-x)"
            )
        if bool((losses.double() - 100).abs().lt(1e-4).any()):
            raise Wrong(
                f"{name} gives 100 at x = 50, y = 0 (the true loss is 50): you went through probabilities and "
                "BCELoss's clamp at -100. Work with the logits (log sigmoid(x) = F.logsigmoid(x))"
            )
        row, column = _first_difference(losses, expected)
        raise Wrong(
            f"at x = {fmt(x[row, column], 'g')}, y = {fmt(y[row, column], 'g')} the loss is "
            f"{fmt(expected[row, column])}, you return {fmt(losses[row, column])}"
        )
    return (
        f"{name} matches F.binary_cross_entropy_with_logits(..., pos_weight=pos_weight, reduction='none') to "
        "within 1e-6, per class, and stays exact for logits of ±50."
    )
