"""Self-checks for notebook 06 (label smoothing).

    check_smooth(smooth)                 smooth(target (N,) int64, num_classes C, alpha) -> q (N, C)
    check_smoothed_ce(smoothed_ce)       smoothed_ce(logits (N, C), target (N,), alpha) -> mean loss ()
    check_optimal_gap(optimal_gap)       optimal_gap(alpha, num_classes) -> the gap g* (a number), 0 < alpha <= 1
    check_alpha_for_confidence(alpha_for_confidence)
                                         alpha_for_confidence(confidence (K,), num_classes C) -> alpha (K,)

Each runs the learner's function on a few fixed inputs, compares with PyTorch / losslab, and for the
typical mistakes (the a/(C-1) variant, a forgotten factor, a sum instead of a mean, ...) says which
one it is and how to fix it.
"""

import math
import numbers

import torch
import torch.nn.functional as F

from ..label_smoothing import optimal_logit_gap, smooth_targets
from ._checking import NotAnswered, Wrong, answer_name, call_answer, close, first_match, fmt, self_check

TARGET = torch.tensor([0, 2, 1, 3, 2])  # (N,) = (5,), classes of C = 4
NUM_CLASSES = 4
# (N, C) = (5, 4): rows with different spreads, so each mistake gives a different number.
LOGITS = torch.tensor(
    [
        [2.0, 1.0, 0.1, -1.0],
        [0.5, -0.5, 3.0, 0.0],
        [-2.0, 4.0, 1.0, 1.0],
        [1.5, 1.5, -0.5, 0.3],
        [0.0, -3.0, 2.5, 1.0],
    ]
)
SCALAR_TOLERANCE = 1e-5  # float32 losses of a few units: rounding stays far below this


def _one_hot(target, num_classes):
    return F.one_hot(target, num_classes).float()


# --------------------------------------------------------------------------- exercise 1: smooth


def _smoothing_variants(target, num_classes, alpha):
    """The typical wrong smoothed targets, each with what to say about it."""
    one_hot = _one_hot(target, num_classes)
    c = num_classes
    return [
        (
            one_hot * (1 - alpha) + (1 - one_hot) * alpha / (c - 1),
            "you put 1 - alpha on the target and alpha / (C - 1) on every other class: that is a different "
            "loss (PyTorch's with alpha' = alpha C / (C - 1)). PyTorch spreads alpha uniformly over all C "
            "classes, the target included: q = (1 - alpha) * onehot + alpha / C",
        ),
        (
            one_hot * (1 - alpha) + (1 - one_hot) * alpha / c,
            "the true class gets only 1 - alpha: the uniform alpha / C goes to every class, the true one "
            "too, so it gets 1 - alpha + alpha / C (and each row sums to 1): q = (1 - alpha) * onehot + alpha / C",
        ),
        (
            one_hot * alpha + (1 - alpha) / c,
            "alpha and 1 - alpha are swapped: the one-hot keeps the weight 1 - alpha and the uniform part "
            "gets alpha, q = (1 - alpha) * onehot + alpha / C (alpha = 0 must give the one-hot target back)",
        ),
        (
            one_hot,
            "you return the one-hot target: no smoothing happened. Mix in the uniform distribution, "
            "q = (1 - alpha) * onehot + alpha / C",
        ),
        (
            one_hot + alpha / c,
            "each row sums to 1 + alpha: you added alpha / C without scaling the one-hot down. "
            "Use q = (1 - alpha) * onehot + alpha / C",
        ),
        (
            one_hot * (1 - alpha),
            "each row sums to 1 - alpha: you scaled the one-hot down but forgot the uniform alpha / C. "
            "Use q = (1 - alpha) * onehot + alpha / C",
        ),
        (
            one_hot * (1 - alpha) + alpha,
            "each row sums to 1 + (C - 1) alpha: the uniform part is alpha / C per class, not alpha. "
            "Use q = (1 - alpha) * onehot + alpha / C",
        ),
    ]


def _explain_smoothing(q, target, num_classes, alpha, name):
    expected = smooth_targets(target, num_classes, alpha)
    if q.shape != expected.shape:
        inferred = int(target.max()) + 1
        if q.shape == (target.shape[0], inferred) and inferred != num_classes:
            raise Wrong(
                f"for the targets {fmt(target, 'd')} with num_classes={num_classes} you return {inferred} columns: "
                "you took the number of classes from the targets (max + 1), which is wrong whenever a batch "
                "lacks the last class. Use the num_classes argument."
            )
        raise Wrong(
            f"{name} returned shape {tuple(q.shape)} for {target.shape[0]} targets and num_classes={num_classes}: "
            f"return shape {tuple(expected.shape)}, one row of C probabilities per target"
        )
    if not q.is_floating_point():
        raise Wrong(
            f"{name} returned a {q.dtype} tensor: smoothed targets are fractions, return floats (e.g. .float())"
        )
    if close(q, expected):
        return
    for wrong, message in _smoothing_variants(target, num_classes, alpha):
        if close(q, wrong):
            raise Wrong(f"at alpha = {alpha:g}, {message}")
    sums = q.double().sum(dim=1)
    if not torch.allclose(sums, torch.ones_like(sums), rtol=0, atol=1e-5):
        raise Wrong(
            f"at alpha = {alpha:g} the rows sum to {fmt(sums)}, not 1: a smoothed target is a distribution. "
            "Use q = (1 - alpha) * onehot + alpha / C"
        )
    peaks = q.argmax(dim=1)
    if alpha < 1 and not torch.equal(peaks, target):
        row = int((peaks != target).nonzero()[0])
        raise Wrong(
            f"row {row} has its largest entry at class {int(peaks[row])}, but its target is {int(target[row])}: "
            "the extra mass goes to the target class, onehot[n, target[n]] = 1"
        )
    row = int((q.double() - expected.double()).abs().amax(dim=1).argmax())
    raise Wrong(
        f"at alpha = {alpha:g}, row {row} (target {int(target[row])}) should be {fmt(expected[row])}, "
        f"you return {fmt(q[row])}"
    )


@self_check
def check_smooth(smooth):
    """smooth(target, num_classes, alpha) -> (N, C) smoothed targets (1 - alpha) onehot + alpha / C."""
    name = answer_name(smooth)
    for alpha in (0.1, 0.4):
        q = call_answer(smooth, TARGET, NUM_CLASSES, alpha)
        _explain_smoothing(q, TARGET, NUM_CLASSES, alpha, name)
    for target, num_classes, alpha in (
        (torch.tensor([0, 1, 1]), 5, 0.2),
        (TARGET, NUM_CLASSES, 0.0),
        (TARGET, NUM_CLASSES, 1.0),
    ):
        q = call_answer(smooth, target, num_classes, alpha)
        _explain_smoothing(q, target, num_classes, alpha, name)
    return (
        f"{name} gives (1 - alpha) * onehot + alpha / C: the true class gets 1 - alpha + alpha / C, every other "
        "class alpha / C, each row sums to 1; alpha = 0 gives the one-hot target and alpha = 1 the uniform one."
    )


# ---------------------------------------------------------------------- exercise 2: smoothed_ce


def _scalar_answer(result, name, expected_shape_note):
    if result.shape != ():
        raise Wrong(f"{name} returned shape {tuple(result.shape)}: return {expected_shape_note}, a 0-d tensor")
    if not result.is_floating_point():
        raise Wrong(f"{name} returned a {result.dtype} tensor: a loss is a real number, return a float tensor")
    return result


def _ce_variants(logits, target, alpha):
    """The typical wrong smoothed cross-entropies (means over the batch), each with what to say about it."""
    n_samples, c = logits.shape
    log_probs = torch.log_softmax(logits, dim=1)  # (N, C)
    ce = F.cross_entropy(logits, target)
    uniform = -log_probs.mean(dim=1).mean()  # mean over samples of mean_c(-log p_c)
    q = smooth_targets(target, c, alpha)
    variant = _one_hot(target, c) * (1 - alpha) + (1 - _one_hot(target, c)) * alpha / (c - 1)
    return [
        (
            (1 - alpha) * ce + alpha * c * uniform,
            "in the uniform term you summed -log p_c over the classes instead of averaging it: "
            "the loss is (1 - alpha) CE + alpha * mean_c(-log p_c), i.e. the weights alpha / C per class",
        ),
        (
            ce + alpha * uniform,
            "you forgot the factor (1 - alpha) on the cross-entropy term: the target keeps only 1 - alpha of "
            "its mass, loss = (1 - alpha) CE + alpha * mean_c(-log p_c)",
        ),
        (
            alpha * ce + (1 - alpha) * uniform,
            "alpha and 1 - alpha are swapped: loss = (1 - alpha) CE + alpha * mean_c(-log p_c), "
            "so that alpha = 0 is the plain cross-entropy",
        ),
        (
            -(q * log_probs).mean(),
            "you averaged over the classes as well as over the batch (.mean() over the whole (N, C) tensor), "
            "which divides the loss by C: sum -q log p over the classes (dim 1), then take the mean over the batch",
        ),
        (
            -(q * torch.log_softmax(logits, dim=0)).sum(dim=1).mean(),
            "your log-softmax runs over dim 0 (the batch): each row of logits must be normalised over "
            "its own classes, torch.log_softmax(logits, dim=1)",
        ),
        (
            F.cross_entropy(torch.softmax(logits, dim=1), target, label_smoothing=alpha),
            "you used probabilities as logits (a double softmax): the loss applies log_softmax itself, so "
            "give it the raw logits, or compute log p with torch.log_softmax(logits, dim=1)",
        ),
        (
            -(q * logits).sum(dim=1).mean(),
            "you used the logits as log-probabilities: take torch.log_softmax(logits, dim=1) first",
        ),
        (
            -(variant * log_probs).sum(dim=1).mean(),
            "you used the variant target with 1 - alpha on the true class and alpha / (C - 1) elsewhere: "
            "PyTorch spreads alpha over all C classes, q = (1 - alpha) * onehot + alpha / C",
        ),
        (
            ce,
            "you return the plain cross-entropy: no smoothing happened. Use the target "
            "q = (1 - alpha) * onehot + alpha / C, or (1 - alpha) CE + alpha * mean_c(-log p_c)",
        ),
        (
            F.cross_entropy(logits, target, label_smoothing=alpha, reduction="sum"),
            f"you return the sum over the {n_samples} samples: return their mean",
        ),
    ]


@self_check
def check_smoothed_ce(smoothed_ce):
    """smoothed_ce(logits, target, alpha) -> the mean label-smoothed cross-entropy (a 0-d tensor)."""
    name = answer_name(smoothed_ce)
    for alpha in (0.2, 0.7):
        loss = call_answer(smoothed_ce, LOGITS, TARGET, alpha)
        if loss.shape == TARGET.shape:
            raise Wrong(
                f"{name} returned {TARGET.shape[0]} losses, one per sample: return their mean, a single number "
                "(.mean() over the batch)"
            )
        _scalar_answer(loss, name, "the mean loss over the batch")
        expected = F.cross_entropy(LOGITS, TARGET, label_smoothing=alpha)
        if close(loss, expected, SCALAR_TOLERANCE):
            continue
        for wrong, message in _ce_variants(LOGITS, TARGET, alpha):
            if close(loss, wrong, SCALAR_TOLERANCE):
                raise Wrong(f"at alpha = {alpha:g}, {message}")
        raise Wrong(
            f"at alpha = {alpha:g} the loss is {fmt(expected)} (F.cross_entropy(logits, target, "
            f"label_smoothing={alpha:g})), you return {fmt(loss)}"
        )
    return (
        f"{name} matches F.cross_entropy(logits, target, label_smoothing=alpha) to within 1e-5 at alpha = 0.2 "
        "and 0.7: (1 - alpha) CE + alpha * mean_c(-log p_c), averaged over the batch."
    )


# ---------------------------------------------------------------------- exercise 3: optimal_gap


def _number_answer(function, *args):
    """The learner's result as a float: a Python number, a numpy number or a one-element tensor."""
    if not callable(function):
        return call_answer(function, *args)  # raises Wrong with the usual message
    name = answer_name(function)
    try:
        result = function(*args)
    except Exception as error:
        raise Wrong(f"{name} raised {type(error).__name__}: {error}") from None
    if result is None:
        raise NotAnswered(
            f"{name} returns None: replace `return None  # your code here` with your code, then run the cell again."
        )
    one_number = isinstance(result, numbers.Real) or (isinstance(result, torch.Tensor) and result.numel() == 1)
    one_number = one_number or (hasattr(result, "__float__") and getattr(result, "size", 2) == 1)  # numpy scalars
    if one_number and not isinstance(result, complex) and not getattr(result, "is_complex", lambda: False)():
        return float(result)
    raise Wrong(f"{name} returned a {type(result).__name__}: return one number, the gap (a float or a 0-d tensor)")


def _gap_variants(alpha, c):
    q_true, q_other = 1 - alpha + alpha / c, alpha / c

    def log(x):
        return math.log(x) if x > 0 else -math.inf

    return [
        (
            log((1 - alpha) / (alpha / c)),
            "you took log((1 - alpha) / (alpha / C)): the true class's target is 1 - alpha + alpha / C, not "
            "1 - alpha (the uniform part goes to it too). g* = log((1 - alpha + alpha / C) / (alpha / C))",
        ),
        (
            log((1 - alpha) / alpha),
            "log((1 - alpha) / alpha) compares the one-hot's weight with the whole smoothing mass; the gap "
            "compares the two target values, q_true = 1 - alpha + alpha / C and q_other = alpha / C: "
            "g* = log(q_true / q_other)",
        ),
        (
            log((1 - alpha) / (alpha / (c - 1))),
            "that is the gap of the a/(C - 1) variant; with PyTorch's smoothing q_true = 1 - alpha + alpha / C "
            "and q_other = alpha / C, g* = log(q_true / q_other)",
        ),
        (
            log(q_true / alpha),
            "you are off by log C: you divided by alpha instead of alpha / C, the target of each other class. "
            "g* = log((1 - alpha + alpha / C) / (alpha / C))",
        ),
        (
            log(q_true / q_other) + math.log(c),
            "you are off by log C: the target of each other class is alpha / C, so divide by alpha / C once. "
            "g* = log((1 - alpha + alpha / C) / (alpha / C))",
        ),
        (
            q_true,
            "you returned q_true = 1 - alpha + alpha / C, the optimal probability of the true class, not the logit "
            "gap: at the optimum softmax = q, so the gap is log(q_true / q_other)",
        ),
        (
            q_true / q_other,
            "you returned the ratio q_true / q_other = e^{g*}: the gap is its log, log(q_true / q_other)",
        ),
        (
            math.log10(q_true / q_other),
            "you took the log in base 10: softmax uses e^z, so the gap is the natural log, math.log(q_true / q_other)",
        ),
        (
            -log(q_true / q_other),
            "the sign is flipped: the true class needs the larger logit, g* = log(q_true / q_other) >= 0",
        ),
    ]


@self_check
def check_optimal_gap(optimal_gap):
    """optimal_gap(alpha, num_classes) -> log((1 - alpha + alpha / C) / (alpha / C)) for 0 < alpha <= 1."""
    name = answer_name(optimal_gap)
    for alpha, c in ((0.1, 5), (0.3, 2), (0.05, 10), (1.0, 10)):
        gap = _number_answer(optimal_gap, alpha, c)
        expected = optimal_logit_gap(alpha, c)
        if math.isclose(gap, expected, rel_tol=0, abs_tol=SCALAR_TOLERANCE):
            continue
        for wrong, message in _gap_variants(alpha, c):
            if math.isclose(gap, wrong, rel_tol=0, abs_tol=SCALAR_TOLERANCE):
                raise Wrong(f"at alpha = {alpha:g}, C = {c}, {message}")
        raise Wrong(f"at alpha = {alpha:g}, C = {c} the optimal gap is {expected:.4f}, you return {_fmt_float(gap)}")
    return (
        f"{name} gives g* = log((1 - alpha + alpha / C) / (alpha / C)): {optimal_logit_gap(0.1, 5):.4f} at "
        "alpha = 0.1, C = 5, and 0 at alpha = 1, where q is uniform. As alpha -> 0 it grows without bound."
    )


def _fmt_float(value):
    return fmt(torch.tensor(value, dtype=torch.float64)) if math.isfinite(value) else str(value)


# ------------------------------------------------------------- exercise 4: alpha_for_confidence

# (confidence (K,), C): K differs from C in the first case, so a class count read off len(confidence) shows.
CONFIDENCE_CASES = (
    (torch.tensor([0.925, 0.85, 0.625, 0.25, 1.0], dtype=torch.float64), 4),  # alpha 0.1, 0.2, 0.5, 1, 0
    (torch.tensor([0.95, 0.75, 0.5], dtype=torch.float64), 2),  # alpha 0.1, 0.5, 1
    (torch.tensor([0.91], dtype=torch.float64), 10),  # alpha 0.1
)
CONFIDENCE_TOLERANCE = {"tolerance": 1e-6, "rtol": 1e-6, "equal_nan": True}
SOLVE = "solve 1 - alpha + alpha / C = confidence: alpha = (1 - confidence) * C / (C - 1)"


def _alpha_mistakes(confidence, c):
    """The typical wrong smoothings for a target confidence, each with what to say about it."""
    spread = 1 - confidence  # what the true class gives up, shared by the C - 1 other classes
    k = confidence.numel()
    with torch.no_grad():
        gap = torch.log(confidence * (c - 1) / spread)  # inf where confidence = 1
    mistakes = [
        (
            spread,
            "you solved 1 - alpha = confidence, which forgets the share alpha / C the true class gets from the "
            "uniform part (that is the alpha of the alpha / (C - 1) variant, not PyTorch's): " + SOLVE,
        ),
        (
            spread * (c - 1) / c,
            "the factor is upside down: 1 - alpha + alpha / C = 1 - alpha (C - 1) / C, so dividing by "
            "(C - 1) / C gives alpha = (1 - confidence) * C / (C - 1)",
        ),
        (
            spread * c,
            "you set alpha / C = 1 - confidence, but 1 - confidence is shared by the C - 1 other classes, each "
            "getting alpha / C = (1 - confidence) / (C - 1): " + SOLVE,
        ),
        (
            spread / (c - 1),
            "you returned q_other = (1 - confidence) / (C - 1), the target of each other class, which is alpha / C: "
            "alpha is C times that, (1 - confidence) * C / (C - 1)",
        ),
        (
            confidence * c / (c - 1),
            "you used the confidence where its complement belongs: alpha grows as the confidence falls, "
            "alpha = (1 - confidence) * C / (C - 1) (a confidence of 1 needs no smoothing, alpha = 0)",
        ),
        (
            -spread * c / (c - 1),
            "the sign is flipped: alpha >= 0 moves mass away from the true class, "
            "alpha = (1 - confidence) * C / (C - 1)",
        ),
        (
            gap,
            "you returned the optimal logit gap log(q_true / q_other), not the smoothing alpha: " + SOLVE,
        ),
    ]
    if c != 2:
        mistakes.append(
            (
                2 * spread,
                f"you used the binary form alpha / 2 with its 2 classes; here there are C = {c}: " + SOLVE,
            )
        )
    if k not in (c, 1):
        mistakes.append(
            (
                spread * k / (k - 1),
                f"you took the number of classes from len(confidence) = {k}: it is the number of settings asked "
                f"for, not C = {c}. Use the num_classes argument",
            )
        )
    return mistakes


@self_check
def check_alpha_for_confidence(alpha_for_confidence):
    """alpha_for_confidence(confidence (K,), num_classes C) -> alpha (K,): the label smoothing whose optimum gives
    the true class the probability `confidence`, (1 - confidence) C / (C - 1)."""
    name = answer_name(alpha_for_confidence)
    for confidence, c in CONFIDENCE_CASES:
        alpha = call_answer(alpha_for_confidence, confidence, c)
        if alpha.shape != confidence.shape:
            raise Wrong(
                f"{name} returned shape {tuple(alpha.shape)} for {confidence.numel()} confidences: return one alpha "
                f"per confidence, shape {tuple(confidence.shape)}"
            )
        if not alpha.is_floating_point():
            raise Wrong(f"{name} returned a {alpha.dtype} tensor: alpha is a fraction, return floats")
        expected = (1 - confidence) * c / (c - 1)
        if close(alpha, expected, **CONFIDENCE_TOLERANCE):
            continue
        message = first_match(alpha, _alpha_mistakes(confidence, c), **CONFIDENCE_TOLERANCE)
        if message:
            raise Wrong(f"for C = {c}, {message}")
        raise Wrong(
            f"for the confidences {fmt(confidence)} with C = {c} the smoothing is {fmt(expected)}, "
            f"you return {fmt(alpha)}"
        )
    return (
        f"{name} solves 1 - alpha + alpha / C = confidence: alpha = (1 - confidence) * C / (C - 1). A confidence of "
        "0.9 takes alpha = 0.1250 with C = 5 and 0.2000 with C = 2: with few classes the true class's own share "
        "alpha / C is large, so the same confidence needs more smoothing."
    )
