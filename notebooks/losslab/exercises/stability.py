"""Self-checks for notebook 03 (NLL, log-softmax and numerical stability).

    check_nll(nll)                                    nll(log_probs (N, C), target (N,)) -> () mean NLL
    check_stable_logsumexp(stable_logsumexp)          stable_logsumexp(logits (N, C)) -> (N,)
    check_stable_cross_entropy(stable_cross_entropy)  stable_cross_entropy(logits (N, C), target (N,)) -> ()
    check_log_sigmoid(log_sigmoid)                    log_sigmoid(z (N,)) -> (N,) log σ(z) of binary logits

Each runs the learner's function on a few fixed float32 inputs, compares with PyTorch (to within 1e-6,
relative for large values), and for the typical mistakes says which one it is and how to fix it.
"""

import torch

from ._checking import NotAnswered, Wrong, answer_name, call_answer, close, fmt, self_check

# Notebook 02's worked example: per-sample losses 1.3951, 7.5357, 2.2155, mean 3.7154.
LOGITS = torch.tensor([[7.4, 2.8, -0.6, 6.3], [-1.9, 4.2, 3.9, 5.1], [9.3, -5.3, 7.2, -8.4]])  # (3, 4)
TARGET = torch.tensor([3, 0, 2])  # (3,)
LOG_PROBS = torch.log_softmax(LOGITS, dim=1)  # (3, 4)
# A second batch with more samples than classes, so an (N, N) mistake shows a different shape.
OTHER_LOGITS = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, 0.3], [-0.7, 2.2, 0.1], [0.0, 0.0, 0.0], [3.0, -3.0, 1.0]])
OTHER_TARGET = torch.tensor([2, 0, 1, 1, 2])  # (5,)
OTHER_LOG_PROBS = torch.log_softmax(OTHER_LOGITS, dim=1)  # (5, 3)

SQUARE_LOGITS = torch.tensor([[2.0, 1.0, 0.1], [0.5, -0.5, 3.0], [-2.0, 4.0, 1.0]])  # (3, 3): N == C hides shape bugs
HUGE_LOGITS = torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1001.0, -1002.0]])  # overflow, then underflow
UNEQUAL_ROWS = torch.tensor([[1000.0, 999.0, 998.0], [0.0, -1.0, -2.0]])  # rows with very different maxima
ALL_MINUS_INF = torch.tensor([[-torch.inf, -torch.inf, -torch.inf], [0.0, 1.0, 2.0]])  # a fully masked row

OVERFLOWING = (torch.tensor([[100.0, 0.0, -100.0]]), torch.tensor([0]))  # exp(100) = inf in float32; loss ~ 0
UNDERFLOWING = (torch.tensor([[0.0, -200.0, 0.0]]), torch.tensor([1]))  # softmax gives p = 0 for the target
HUGE_BATCH = (torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 500.0, 1000.0]]), torch.tensor([2, 0]))  # losses 2000, 1000


def _close(result, expected):
    """Equal to within 1e-6, relative for large values (float32 keeps about 7 significant digits)."""
    return close(result, expected, tolerance=1e-6, rtol=1e-6)


def _picked(values, target):
    """values[n, target[n]] for every row n: (N,)."""
    return values[torch.arange(len(target)), target]


def _check_scalar(result, name, per_sample, given):
    """A mean loss is one number: explain the usual wrong shapes."""
    if result.shape == ():
        return
    n_samples = given.shape[0]
    if result.shape == (n_samples,) and _close(result, per_sample):
        raise Wrong(
            f"{name} returns one loss per sample, shape ({n_samples},) (reduction='none'): return their mean, "
            "a 0-d tensor, with .mean()"
        )
    if result.shape == (n_samples, n_samples):
        raise Wrong(
            f"{name} returns shape ({n_samples}, {n_samples}) for {n_samples} samples: log_probs[:, target] picks "
            "the target columns for every row, an (N, N) matrix. Pick one entry per row: "
            "log_probs[torch.arange(N), target] (or log_probs.gather(1, target[:, None]))"
        )
    if result.numel() == 1:
        raise Wrong(
            f"{name} returns shape {tuple(result.shape)}: return a 0-d tensor (a scalar), "
            "e.g. with .mean() over all entries or .squeeze()"
        )
    raise Wrong(
        f"{name} returns shape {tuple(result.shape)} for an input of shape {tuple(given.shape)}: return one number, the mean loss"
    )


def _explain_mean_loss(result, per_sample, log_probs, target, name, what):
    """Raise Wrong saying how the scalar `result` differs from per_sample.mean(); `what` names the input."""
    expected = per_sample.mean()
    if _close(result, expected):
        return
    n_samples, n_classes = log_probs.shape
    if result.isnan():
        raise Wrong(
            f"{name} returns nan: log_probs are already logarithms (all <= 0), and the log of a negative "
            "number is nan. Don't take the log again: pick and negate."
        )
    if _close(result, -expected):
        raise Wrong(
            f"{name} returns {fmt(result)}, the right size with the wrong sign: you forgot the minus sign, -log_probs[...]"
        )
    if _close(result, expected * n_samples):
        raise Wrong(
            f"{name} returns {fmt(result)}, the sum of the per-sample losses: divide by N = {n_samples} (use .mean())"
        )
    if _close(result, expected / n_classes):
        raise Wrong(
            f"{name} returns {fmt(result)}, {n_classes} times too small: you averaged over all N·C entries "
            "(the classes too, e.g. (log_probs * one_hot).mean()). Pick the target entry of each row, then "
            "average over the batch only"
        )
    probs = log_probs.exp()
    for sign in (-1, 1):
        if _close(result, sign * _picked(probs, target).mean()):
            raise Wrong(
                f"{name} returns {fmt(result)}, ±the mean *probability* of the targets: you used probabilities "
                f"where {what} belong. The loss is -log p[target]: pick the log-probabilities and negate them, "
                "-log_probs[range(N), target].mean()"
            )
    if _close(result, -log_probs[:, target].mean()):
        raise Wrong(
            f"{name} returns {fmt(result)}, the mean of an (N, N) matrix: log_probs[:, target] picks the target "
            "columns for every row. Pick one entry per row: log_probs[torch.arange(N), target]"
        )
    if _close(result, -log_probs.amax(dim=1).mean()):
        raise Wrong(
            f"{name} returns {fmt(result)}: you picked each row's largest entry (the predicted class) instead "
            "of the entry of the target class"
        )
    raise Wrong(f"{name} returns {fmt(result)} where the mean NLL is {fmt(expected)} (per sample {fmt(per_sample)})")


@self_check
def check_nll(nll):
    """nll(log_probs, target): the mean over the batch of -log_probs[n, target[n]]."""
    name = answer_name(nll)
    for log_probs, target in ((LOG_PROBS, TARGET), (OTHER_LOG_PROBS, OTHER_TARGET)):
        result = call_answer(nll, log_probs, target)
        per_sample = -_picked(log_probs, target)
        _check_scalar(result, name, per_sample, log_probs)
        _explain_mean_loss(result, per_sample, log_probs, target, name, "log-probabilities")
    return (
        f"{name} matches F.nll_loss: {fmt(torch.nn.functional.nll_loss(LOG_PROBS, TARGET))} on notebook 02's "
        "worked example. It never looks at the other entries: the normalisation is log_softmax's job."
    )


# --------------------------------------------------------------------------------- logsumexp


def _lse_candidates(logits):
    """Typical wrong versions of logsumexp over dim 1, each with the sentence that names it."""
    exact = torch.logsumexp(logits, dim=1)
    row_max = logits.amax(dim=1)  # (N,)
    shifted_sum = (logits - row_max[:, None]).exp().sum(dim=1)  # (N,)
    candidates = [
        (
            exact - row_max,
            "you forgot to add m back: log sum exp(z - m) is logsumexp(z) - m. Return m + log sum exp(z - m)",
        ),
        (row_max + shifted_sum, "you forgot the log: return m + log(sum exp(z - m))"),
        (
            row_max,
            "you return the row maximum m alone: logsumexp is a smooth maximum, m + log sum exp(z - m), "
            "which is larger than m by up to log C",
        ),
    ]
    if logits.shape[0] != logits.shape[1]:
        return candidates
    # With as many rows as classes, these shape mistakes broadcast silently instead of raising.
    col_max = logits.amax(dim=0)  # (C,)
    return candidates + [
        (
            torch.logsumexp(logits, dim=0),
            "you reduced over dim 0 (the batch): log-sum-exp runs over the classes, dim 1, one value per row",
        ),
        (
            (logits - row_max[None, :]).exp().sum(dim=1).log() + row_max,
            "logits.amax(dim=1) without keepdim has shape (N,), which broadcasts along the last dimension: "
            "logits - m subtracts row j's maximum from column j. Use amax(dim=1, keepdim=True) for the shift",
        ),
        (
            (logits - col_max[None, :]).exp().sum(dim=1).log() + col_max,
            "you took the maximum over dim 0 (each column's) instead of each row's: use logits.amax(dim=1, "
            "keepdim=True)",
        ),
    ]


def _explain_lse(result, logits, name):
    expected = torch.logsumexp(logits, dim=1)
    n_rows = logits.shape[0]
    if result.shape == (n_rows, 1):
        raise Wrong(
            f"{name} returns shape ({n_rows}, 1): the result keeps the reduced dimension. Return shape "
            f"({n_rows},): squeeze it (m.squeeze(1)), or sum without keepdim=True"
        )
    if result.shape == (n_rows, n_rows):
        raise Wrong(
            f"{name} returns shape ({n_rows}, {n_rows}): you added m of shape (N, 1) to a sum of shape (N,), "
            "and broadcasting made an (N, N) matrix. Squeeze m (m.squeeze(1)) before adding it back"
        )
    if result.shape != expected.shape:
        raise Wrong(
            f"{name} returns shape {tuple(result.shape)} for logits of shape {tuple(logits.shape)}: return "
            f"shape {tuple(expected.shape)}, one value per row"
        )
    if _close(result, expected):
        return
    if not result.isfinite().all():
        raise Wrong(
            f"{name} returns {fmt(result)} for the logits {fmt(logits, 'g')}: the answer is finite, {fmt(expected)}"
        )
    for candidate, sentence in _lse_candidates(logits):
        if _close(result, candidate):
            raise Wrong(sentence)
    row = int((result.double() - expected.double()).abs().argmax())
    raise Wrong(
        f"row {row}: logsumexp of {fmt(logits[row], 'g')} is {fmt(expected[row])}, you return {fmt(result[row])}"
    )


@self_check
def check_stable_logsumexp(stable_logsumexp):
    """stable_logsumexp(logits) for logits (N, C): log sum_j exp(z_j) of each row, (N,), finite for huge logits."""
    name = answer_name(stable_logsumexp)
    _explain_lse(call_answer(stable_logsumexp, SQUARE_LOGITS), SQUARE_LOGITS, name)

    for logits, text in (
        (HUGE_LOGITS, "[[1000, 0, -1000], [-1000, -1001, -1002]]"),
        (UNEQUAL_ROWS, "[[1000, 999, 998], [0, -1, -2]]"),
    ):
        result = call_answer(stable_logsumexp, logits)
        if result.shape == (2,) and not result[0].isfinite():
            raise Wrong(
                f"{name} returns {fmt(result)} for the logits {text} (the answer is "
                f"{fmt(torch.logsumexp(logits, dim=1))}): without the shift, exp(1000) overflows to inf (and "
                "exp(-1000) underflows to 0, whose log is -inf). Subtract each row's maximum m before exp, and "
                "add it back after the log"
            )
        if result.shape == (2,) and not result[1].isfinite():
            raise Wrong(
                f"{name} returns {fmt(result)} for the logits {text}: you subtracted the maximum of the whole "
                "batch (1000), so every exp of row 1 underflows to 0 and log 0 = -inf. Subtract each row's own "
                "maximum: logits.amax(dim=1, keepdim=True)"
            )
        _explain_lse(result, logits, name)
    _explain_lse(call_answer(stable_logsumexp, LOGITS), LOGITS, name)

    praise = (
        f"{name} matches torch.logsumexp(logits, dim=1) and stays finite for logits like [1000, 0, -1000] "
        "(1000.0000) and [-1000, -1001, -1002] (-999.5924)."
    )
    try:
        masked = call_answer(stable_logsumexp, ALL_MINUS_INF)
    except (Wrong, NotAnswered):  # an edge case we mention, not one we require
        masked = None
    if masked is not None and masked.shape == (2,) and masked[0] == -torch.inf:
        return praise + " It even gives -inf, not nan, for a row of all -inf."
    return praise + (
        " One edge case remains (torch and losslab.logsumexp handle it): a row of all -inf (a fully masked "
        "row) has m = -inf, and -inf - (-inf) is nan; shift such rows by 0 instead to get -inf."
    )


# ------------------------------------------------------------------------------ cross-entropy


@self_check
def check_stable_cross_entropy(stable_cross_entropy):
    """stable_cross_entropy(logits, target): F.cross_entropy's mean, finite for huge logits."""
    name = answer_name(stable_cross_entropy)
    functional = torch.nn.functional
    result = call_answer(stable_cross_entropy, LOGITS, TARGET)
    per_sample = functional.cross_entropy(LOGITS, TARGET, reduction="none")
    _check_scalar(result, name, per_sample, LOGITS)
    if _close(result, functional.cross_entropy(torch.softmax(LOGITS, dim=1), TARGET)):
        raise Wrong(
            f"{name} returns {fmt(result)}: a double softmax. You applied softmax to the logits and then "
            "computed cross-entropy on those probabilities as if they were logits; take log_softmax of the "
            "logits themselves"
        )
    if _close(result, (LOGITS.amax(dim=1) - _picked(LOGITS, TARGET)).mean()):
        raise Wrong(
            f"{name} returns {fmt(result)}, the mean of m - z[target]: you replaced logsumexp(z) by its shift m "
            "and dropped the log sum exp(z - m) term. The loss is logsumexp(z) - z[target]"
        )
    _explain_mean_loss(result, per_sample, torch.log_softmax(LOGITS, dim=1), TARGET, name, "log-probabilities")

    logits, target = OVERFLOWING
    result = call_answer(stable_cross_entropy, logits, target)
    if result.shape == () and not result.isfinite():
        raise Wrong(
            f"{name} returns {fmt(result)} for the logits [[100, 0, -100]] with target 0 (the loss is 0.0000): "
            "exp(100) overflows to inf in float32 (anything above 88.72 does), and then log(inf) = inf or "
            "inf / inf = nan. "
            "Subtract each row's maximum before exp: use log-sum-exp with the shift"
        )
    logits, target = UNDERFLOWING
    result = call_answer(stable_cross_entropy, logits, target)
    if result.shape == () and not result.isfinite():
        raise Wrong(
            f"{name} returns {fmt(result)} for the logits [[0, -200, 0]] with target 1 (the loss is 200.6931): "
            "you took log(softmax(z)), and the target's probability e^-200 underflows to 0, whose log is -inf. "
            "Compute the log-probabilities directly: z - logsumexp(z) (log_softmax)"
        )
    logits, target = HUGE_BATCH
    result = call_answer(stable_cross_entropy, logits, target)
    expected = functional.cross_entropy(logits, target)
    if not (result.shape == () and _close(result, expected)):
        raise Wrong(
            f"{name} returns {fmt(result)} for the logits [[1000, 0, -1000], [0, 500, 1000]] with targets [2, 0]: "
            f"the losses are 2000 and 1000, mean {fmt(expected)}"
        )
    return (
        f"{name} matches F.cross_entropy ({fmt(functional.cross_entropy(LOGITS, TARGET))} on notebook 02's worked "
        f"example) and gives {fmt(expected)} for logits of ±1000, where log(softmax(z)) gives inf."
    )


# -------------------------------------------------------------------------------- log-sigmoid

# Binary logits from -1000 to 1000: exp(±z) overflows at both ends in float32, sigmoid underflows at the low end.
BINARY_LOGITS = torch.tensor([-1000.0, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1000.0])  # (9,)


def _first_bad(result, expected, logits):
    """The index of the first entry of `result` that is not within tolerance of `expected`."""
    good = torch.isclose(result.double(), expected.double(), rtol=1e-6, atol=1e-6)
    return int((~good).nonzero()[0])


def _at(values, logits, index):
    return f"{fmt(values[index])} at z = {fmt(logits[index], 'g')}"


@self_check
def check_log_sigmoid(log_sigmoid):
    """log_sigmoid(z): log σ(z) of each binary logit z (N,) -> (N,), finite and accurate for |z| up to 1000."""
    name = answer_name(log_sigmoid)
    functional = torch.nn.functional
    z = BINARY_LOGITS
    result = call_answer(log_sigmoid, z)
    expected = functional.logsigmoid(z)
    if result.shape != z.shape:
        raise Wrong(
            f"{name} returns shape {tuple(result.shape)} for z of shape {tuple(z.shape)}: return one value per "
            "logit, the shape of z (if you stacked [0, -z], reduce over the dimension you stacked along)"
        )
    if _close(result, expected):
        return (
            f"{name} matches F.logsigmoid from z = -1000 ({fmt(expected[0])}) to z = 1000 (log σ(0) = "
            f"{fmt(expected[4])}), where log(sigmoid(z)) gives -inf. Binary cross-entropy with logits "
            "(notebook 05) is built from it: -[y log σ(z) + (1 - y) log σ(-z)]."
        )
    # log(sigmoid(z)) and -log(1 + exp(-z)) give the same numbers: torch.sigmoid is 1 / (1 + exp(-z)), so
    # σ(z) becomes 0 exactly where exp(-z) overflows. One message names both.
    known = [
        (
            -torch.log1p(torch.exp(-z)),
            "-inf for very negative z. Either the log comes after the sigmoid, log(sigmoid(z)): σ(-1000) "
            "underflows to 0 in float32 and log 0 = -inf, the log(softmax) trap of this notebook; or you wrote "
            "-log(1 + exp(-z)), right on paper, where exp(1000) overflows to inf. Shift as log-sum-exp does: "
            "log σ(z) = -logsumexp([0, -z]), or min(z, 0) - log1p(exp(-|z|))",
        ),
        (
            z - torch.log1p(torch.exp(z)),
            "z - log(1 + e^z) is exact for negative z, but for large positive z, e^z overflows: at z = 1000 the "
            "result is 1000 - inf = -inf. Keep every exponent at most 0, whatever the sign of z: "
            "-logsumexp([0, -z]), or min(z, 0) - log1p(exp(-|z|))",
        ),
        (
            torch.minimum(z, torch.zeros_like(z)),
            "you return min(z, 0), the shift alone: the term -log(1 + e^(-|z|)) is missing, and at z = 0, "
            f"log σ(0) = log 0.5 = {fmt(expected[4])}",
        ),
    ]
    for candidate, message in known:
        if _close(result, candidate):
            raise Wrong(f"{name} returns {fmt(result, '.4g')}: {message}")
    finite = result.isfinite() & expected.isfinite()
    if finite.any() and (result[finite] >= 0).all() and _close(result[finite], -expected[finite]):
        raise Wrong(
            f"{name} returns {_at(result, z, 3)} (positive): the sign. That is -log σ(z) = log(1 + e^(-z)), the "
            f"loss of label 1; log σ(z) is a log-probability, never above 0: {_at(expected, z, 3)}"
        )
    flipped = functional.logsigmoid(-z)
    if finite.any() and _close(result[finite], flipped[finite]):
        raise Wrong(
            f"{name} returns {_at(result, z, 3)}, log σ(-z) = log(1 - σ(z)): the log-probability of label 0. "
            f"log σ(z) = -log(1 + e^(-z)) has -z in the exponent: {_at(expected, z, 3)}"
        )
    bad = _first_bad(result, expected, z)
    if result[bad].isnan():
        raise Wrong(
            f"{name} returns nan at z = {fmt(z[bad], 'g')} (log σ(z) = {fmt(expected[bad])}): an exp overflowed to "
            "inf and then inf - inf or inf / inf is nan. Keep every exponent at most 0: -logsumexp([0, -z])"
        )
    if not result[bad].isfinite():
        side = "very negative" if z[bad] < 0 else "large positive"
        raise Wrong(
            f"{name} returns {_at(result, z, bad)}, where log σ(z) = {fmt(expected[bad])}: for {side} z an exp "
            "overflowed to inf, or a probability underflowed to 0 before a log. Keep every exponent at most 0: "
            "-logsumexp([0, -z]), or min(z, 0) - log1p(exp(-|z|))"
        )
    if z[bad] < -10 and expected[bad] + 1 < result[bad] < 0:
        raise Wrong(
            f"{name} returns {_at(result, z, bad)}, where log σ(z) = {fmt(expected[bad])}: a clamp or an eps "
            "inside the log caps the value (log(eps) at best). For very negative z, log σ(z) ≈ z: "
            "compute it in log space, -logsumexp([0, -z])"
        )
    raise Wrong(f"{name} returns {_at(result, z, bad)}, where log σ(z) = {fmt(expected[bad])}")
