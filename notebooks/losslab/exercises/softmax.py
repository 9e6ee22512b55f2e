"""Self-checks for notebook 01 (logits and softmax).

    check_stable_softmax(stable_softmax)              stable_softmax(logits (N, C)) -> (N, C)
    check_temperature(softmax_with_temperature)       softmax_with_temperature(logits (N, C), T) -> (N, C)
    check_logits_from_probabilities(logits_from_probabilities)
                                                      logits_from_probabilities(probs (N, C)) -> (N, C)
    check_masked_softmax(masked_softmax)              masked_softmax(logits (N, C), allowed (N, C) bool) -> (N, C)

Each runs the learner's function on a few fixed inputs, compares with PyTorch to within
1e-6, and for the typical mistakes says which one it is and how to fix it.
"""

import math

import torch

from ._checking import TOLERANCE, Wrong, answer_name, call_answer, close, fmt, self_check

ORDINARY_LOGITS = torch.tensor([[2.0, 1.0, 0.1, -1.0], [0.5, -0.5, 3.0, 0.0], [-2.0, 4.0, 1.0, 1.0]])  # (3, 4)
HUGE_LOGITS = torch.tensor([[1000.0, 0.0]])  # (1, 2): exp(1000) overflows in float32
UNEQUAL_ROWS = torch.tensor([[1000.0, 999.0], [0.0, -1.0]])  # (2, 2): rows with very different maxima
PROBS = torch.tensor([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5], [0.05, 0.9, 0.05]])  # (3, 3), rows sum to 1


def _sums_to_one(probs, dim):
    sums = probs.sum(dim=dim).double()
    return bool(torch.allclose(sums, torch.ones_like(sums), rtol=0, atol=1e-5))


def _check_shape(result, expected, name, given):
    if result.shape != expected.shape:
        raise Wrong(
            f"{name} returned shape {tuple(result.shape)} for an input of shape {tuple(given.shape)}: "
            f"return shape {tuple(expected.shape)}, one value per input entry"
        )


def _explain_batch_difference(probs, logits, expected, name):
    """Raise Wrong saying how probs, of expected's shape, differs from the softmax of logits over dim 1."""
    if close(probs, expected):
        return
    if not probs.isfinite().all():
        raise Wrong(f"{name} returns {fmt(probs)} for the logits {fmt(logits, 'g')}: every probability must be finite")
    if not _sums_to_one(probs, dim=1):
        if _sums_to_one(probs, dim=0):
            raise Wrong(
                "rows don't sum to 1, columns do: you normalised over dim 0 (the batch) instead of dim 1 "
                "(the classes). Use dim=1 in the sum (and in the max)."
            )
        raise Wrong(
            f"rows don't sum to 1 (they sum to {fmt(probs.sum(dim=1))}): divide each exp by the sum of "
            "the exps of its own row, exps.sum(dim=1, keepdim=True)"
        )
    shifted = (logits - logits.amax(dim=0, keepdim=True)).exp()
    if close(probs, shifted / shifted.sum(dim=1, keepdim=True)):
        raise Wrong(
            "you subtracted each column's maximum (dim 0), which shifts the logits of one row by different "
            "amounts and so changes its softmax: subtract each row's maximum, logits.amax(dim=1, keepdim=True)"
        )
    row = int((probs.double() - expected.double()).abs().amax(dim=1).argmax())
    raise Wrong(
        f"row {row} is wrong: for the logits {fmt(logits[row], 'g')} the softmax is {fmt(expected[row])}, "
        f"you return {fmt(probs[row])}"
    )


@self_check
def check_stable_softmax(stable_softmax):
    """stable_softmax(logits) for logits of shape (N, C): softmax over dim 1, finite for any logits."""
    name = answer_name(stable_softmax)
    probs = call_answer(stable_softmax, ORDINARY_LOGITS)
    expected = torch.softmax(ORDINARY_LOGITS, dim=1)
    _check_shape(probs, expected, name, ORDINARY_LOGITS)
    _explain_batch_difference(probs, ORDINARY_LOGITS, expected, name)

    probs = call_answer(stable_softmax, HUGE_LOGITS)
    _check_shape(probs, HUGE_LOGITS, name, HUGE_LOGITS)
    if not probs.isfinite().all():
        raise Wrong(
            f"{name} returns {fmt(probs)} for the logits [[1000, 0]]: exp(1000) overflows to inf in float32 "
            "(anything above 88.72 does) and inf / inf = nan. Subtract the row maximum before exp."
        )
    _explain_batch_difference(probs, HUGE_LOGITS, torch.softmax(HUGE_LOGITS, dim=1), name)

    probs = call_answer(stable_softmax, UNEQUAL_ROWS)
    _check_shape(probs, UNEQUAL_ROWS, name, UNEQUAL_ROWS)
    if probs[0].isfinite().all() and not probs[1].isfinite().all():
        raise Wrong(
            f"{name} returns nan in row 1 of the logits [[1000, 999], [0, -1]]: you subtracted the maximum of "
            "the whole batch (1000), so every exp in row 1 underflows to 0 and 0 / 0 = nan. Subtract each "
            "row's own maximum: logits.amax(dim=1, keepdim=True)."
        )
    _explain_batch_difference(probs, UNEQUAL_ROWS, torch.softmax(UNEQUAL_ROWS, dim=1), name)
    return (
        f"{name} matches torch.softmax(logits, dim=1) to within 1e-6, and stays finite for logits "
        "like [1000, 0] (giving [1, 0])."
    )


@self_check
def check_temperature(softmax_with_temperature):
    """softmax_with_temperature(logits, T) for logits of shape (N, C): softmax(logits / T) over dim 1."""
    name = answer_name(softmax_with_temperature)
    for temperature in (0.5, 2.0):
        probs = call_answer(softmax_with_temperature, ORDINARY_LOGITS, temperature)
        expected = torch.softmax(ORDINARY_LOGITS / temperature, dim=1)
        _check_shape(probs, expected, name, ORDINARY_LOGITS)
        if close(probs, expected):
            continue
        if close(probs, torch.softmax(ORDINARY_LOGITS, dim=1)):
            raise Wrong(
                f"at T = {temperature:g} you return the plain softmax(z): you forgot to divide by the temperature. "
                "(Adding or subtracting T would not help: softmax ignores shifts.) Return softmax(logits / T)."
            )
        if close(probs, torch.softmax(ORDINARY_LOGITS * temperature, dim=1)):
            raise Wrong(
                "you multiplied the logits by T: divide them instead, softmax(logits / T), so that T > 1 "
                "flattens the distribution and T < 1 sharpens it"
            )
        if not _sums_to_one(probs, dim=1) and not _sums_to_one(probs, dim=0):
            raise Wrong(
                f"at T = {temperature:g} the rows don't sum to 1: apply the temperature to the logits, before "
                "the softmax (softmax(logits / T)), not to the probabilities after it"
            )
        _explain_batch_difference(probs, ORDINARY_LOGITS / temperature, expected, name)

    logits = torch.tensor([[10.0, 0.0]])
    probs = call_answer(softmax_with_temperature, logits, 0.01)
    _check_shape(probs, logits, name, logits)
    if not probs.isfinite().all():
        raise Wrong(
            f"{name} returns {fmt(probs)} for the logits [[10, 0]] at T = 0.01, where z / T = [[1000, 0]]: "
            "use a numerically stable softmax (torch.softmax, or your stable_softmax from exercise 1)"
        )
    _explain_batch_difference(probs, logits / 0.01, torch.softmax(logits / 0.01, dim=1), name)
    return (
        f"{name} matches torch.softmax(logits / T, dim=1) at T = 0.5 and T = 2, and stays finite at T = 0.01 "
        "for the logits [10, 0]."
    )


@self_check
def check_logits_from_probabilities(logits_from_probabilities):
    """logits_from_probabilities(probs) for probs of shape (N, C), all > 0: logits whose softmax is probs."""
    name = answer_name(logits_from_probabilities)
    logits = call_answer(logits_from_probabilities, PROBS)
    _check_shape(logits, PROBS, name, PROBS)
    if not logits.isfinite().all():
        raise Wrong(f"{name} returns {fmt(logits)}: every logit must be finite (all the probabilities are > 0)")
    if close(torch.softmax(logits, dim=1), PROBS):
        return (
            f"softmax({name}(p)) gives back p. The answer is not unique: log(p) + c, with any constant c per "
            "row, works just as well, because softmax ignores shifts."
        )
    log_probs = PROBS.log()
    if _constant_per_row(logits - PROBS):
        raise Wrong(
            "you returned the probabilities themselves (up to a constant per row), but softmax treats its input "
            f"as logits and softmax(p) is not p: softmax({fmt(PROBS[0], '.2f')}) = "
            f"{fmt(torch.softmax(PROBS[0], dim=0))}, much flatter. Undo the exp instead: take the log."
        )
    if _constant_per_row(logits + log_probs):
        raise Wrong("the sign is flipped: -log(p) gives the most likely class the smallest logit. Return log(p).")
    for base, log_in_base in (("2", PROBS.log2()), ("10", PROBS.log10())):
        if _constant_per_row(logits - log_in_base):
            raise Wrong(
                f"you took the log in base {base}: softmax uses e^z, so the logits must be natural logs, "
                "torch.log(p) (another base rescales the logits, like a temperature)"
            )
    if close(logits, PROBS.exp()):
        raise Wrong("exp goes the wrong way: softmax exponentiates the logits, so undo it with log, not exp")
    if close(logits, torch.logit(PROBS)):
        raise Wrong(
            "log(p / (1 - p)) is the logit of a two-class problem (the inverse of the sigmoid); with C classes "
            "the logits are log(p), up to a constant per row"
        )
    row = int((torch.softmax(logits, dim=1) - PROBS).abs().amax(dim=1).argmax())
    raise Wrong(
        f"row {row}: softmax of your logits {fmt(logits[row])} is {fmt(torch.softmax(logits[row], dim=0))}, "
        f"not the probabilities {fmt(PROBS[row])}"
    )


def _constant_per_row(differences):
    """True if each row of differences (N, C) holds one value repeated: a shift softmax ignores."""
    spread = differences.amax(dim=1) - differences.amin(dim=1)
    return bool((spread < 1e-5).all())


# Exercise 4, the masked softmax: (logits, allowed, what to say where an answer goes wrong on them).
ORDINARY_ALLOWED = torch.tensor(
    [[True, True, False, True], [True, False, False, True], [False, True, True, False]]
)  # (3, 4): row 1 disallows its largest logit
MASKED_CASES = [
    (ORDINARY_LOGITS, ORDINARY_ALLOWED, {}),
    (
        torch.tensor([[1000.0, 999.0, 0.0]]),
        torch.tensor([[True, True, False]]),
        {
            "nonfinite": "exp(1000) overflows to inf in float32 (anything above 88.72 does) and inf / inf = nan. "
            "Subtract each row's maximum before exp, or use torch.softmax on the masked logits."
        },
    ),
    (
        torch.tensor([[0.0, -1.0, 1000.0]]),
        torch.tensor([[True, True, False]]),
        {
            "nonfinite": "here the disallowed class 2 has by far the largest logit. If the softmax you take, or the "
            "maximum you subtract, includes it, e^(0 - 1000) for the allowed classes rounds to 0 and normalising "
            "them divides 0 by 0. Mask the logits first (fill the disallowed ones with -inf), then take the "
            "softmax: its maximum is then over the allowed classes.",
            "sums": "here the disallowed class 2 has by far the largest logit, so a softmax over all the classes "
            "gives it all the probability and rounds e^(0 - 1000) for the allowed ones to 0: masking the "
            "probabilities after the softmax loses them. Mask the logits (fill the disallowed ones with -inf) "
            "before the softmax.",
        },
    ),
    (
        torch.tensor([[-30000.0, -30001.0, -40000.0]]),
        torch.tensor([[True, True, False]]),
        {
            "nonfinite": "every exp underflows to 0 and 0 / 0 = nan. Subtract each row's maximum (over its "
            "allowed classes) before exp, or use torch.softmax on the masked logits.",
            "leak": "the value you fill the disallowed logits with is not low enough: it must be below every "
            "allowed logit by more than about 104, and a finite value such as -1e4 is above these allowed logits "
            "(-30000). Fill them with -inf (float('-inf')), whose exp is exactly 0 whatever the other logits.",
            "sums": "the allowed logits here are far below 0. A finite fill value for the disallowed logits, "
            "such as -1e4, is above them (-30000), so the softmax gives the disallowed class all the probability: "
            "fill them with -inf (float('-inf')) instead. (And the exps of logits this low underflow to 0 unless "
            "you subtract the row's maximum first.)",
        },
    ),
    (
        torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        torch.tensor([[True, False, True], [False, False, False]]),  # row 1 allows no class
        {},
    ),
]


def _masked_reference(logits, allowed):
    """The masked softmax (N, C), computed in float64: 0 for a disallowed class, zeros in a row allowing none."""
    masked_logits = logits.double().masked_fill(~allowed, -math.inf)
    return torch.softmax(masked_logits, dim=1).masked_fill(~allowed, 0.0).to(logits.dtype)


def _explain_masked_difference(probs, logits, allowed, expected, name, hints):
    """Raise Wrong saying how probs differs from the masked softmax `expected` of logits and allowed (N, C)."""
    if close(probs, expected):
        return
    given = f"the logits {fmt(logits, 'g')} with allowed = {allowed.tolist()}"
    values = probs.double()
    has_class = allowed.any(dim=1)  # (N,)
    if not values[has_class].isfinite().all():
        raise Wrong(
            f"{name} returns {fmt(probs)} for {given}: " + hints.get("nonfinite", "every probability must be finite")
        )

    leaked = (values.abs() > TOLERANCE) & ~allowed & has_class[:, None]  # (N, C)
    if leaked.any():
        row, column = (int(i) for i in leaked.nonzero()[0])
        leak = (
            f"class {column} of row {row} is not allowed, but {name} gives it probability "
            f"{fmt(probs[row, column])} for {given}: "
        )
        if "leak" in hints:
            raise Wrong(leak + hints["leak"])
        if close(probs, torch.softmax(logits, dim=1)):
            raise Wrong(
                f"{name} returns the plain softmax: you ignored the mask. `allowed` is True where a class may be "
                "chosen; every other class must get probability exactly 0."
            )
        if close(probs, torch.softmax(logits.masked_fill(~allowed, 0.0), dim=1)):
            raise Wrong(
                "you set the disallowed logits to 0 (as logits * allowed does), but a logit of 0 is an ordinary "
                "score: e^0 = 1 gets its share of the probability. Fill them with -inf instead: e^(-inf) = 0."
            )
        if close(probs, _masked_reference(logits, ~allowed)):
            raise Wrong(
                "you masked the allowed classes instead of the others: `allowed` is True where a class may be "
                "chosen, so fill the logits where ~allowed (logits.masked_fill(~allowed, ...))"
            )
        raise Wrong(leak + "a disallowed class must get exactly 0. Fill its logit with -inf before the softmax.")

    sums = values.sum(dim=1)  # (N,)
    if ((sums - 1).abs() > 1e-5)[has_class].any():
        wrong_sums = f"for {given} the rows with an allowed class must sum to 1; {name}'s sum to {fmt(sums)}: "
        if "sums" in hints:
            raise Wrong(wrong_sums + hints["sums"])
        if close(probs, torch.softmax(logits, dim=1) * allowed):
            raise Wrong(
                f"the rows sum to {fmt(sums)}, not 1: you set the disallowed probabilities to 0 after the softmax "
                "and did not renormalise. Mask the logits before the softmax instead (fill the disallowed ones "
                "with -inf), so that the allowed classes share all the probability."
            )
        if _sums_to_one(probs, dim=0):
            raise Wrong(
                "rows don't sum to 1, columns do: you normalised over dim 0 (the batch) instead of dim 1 (the "
                "classes). Take the softmax over dim=1."
            )
        raise Wrong(wrong_sums + "the allowed classes share all the probability.")

    for row in range(len(probs)):
        if close(probs[row], expected[row]):
            continue
        if not has_class[row]:
            if not values[row].isfinite().all():
                reason = "a softmax of a row of -inf logits is nan (its maximum is -inf, and -inf - (-inf) = nan)"
            elif ((values[row] - values[row].mean()).abs() < TOLERANCE).all():
                reason = (
                    "a finite fill value gives every class of that row the same logit, so its softmax is "
                    "uniform (1/C each)"
                )
            else:
                reason = "there is no allowed class to give probability to"
            raise Wrong(
                f"row {row} of {given} allows no class, and {name} returns {fmt(probs[row])} there: {reason}. "
                "The exercise asks for zeros in such a row: for instance, set the probabilities of the disallowed "
                "classes to 0 after the softmax, probs.masked_fill(~allowed, 0.0)."
            )
        raise Wrong(
            f"row {row} is wrong: for the logits {fmt(logits[row], 'g')} with allowed = {allowed[row].tolist()} the "
            f"masked softmax is {fmt(expected[row])}, you return {fmt(probs[row])}. The allowed classes keep the "
            "ratios softmax gives them: e^(z_i) divided by the sum of e^(z_j) over the allowed classes j."
        )


@self_check
def check_masked_softmax(masked_softmax):
    """masked_softmax(logits, allowed) for logits of shape (N, C) and a bool mask allowed of the same shape: the
    softmax over each row's allowed classes, 0 for the others, finite for any finite logits, a row of zeros
    where no class is allowed."""
    name = answer_name(masked_softmax)
    for logits, allowed, hints in MASKED_CASES:
        probs = call_answer(masked_softmax, logits, allowed)
        expected = _masked_reference(logits, allowed)
        _check_shape(probs, expected, name, logits)
        _explain_masked_difference(probs, logits, allowed, expected, name, hints)
    return (
        f"{name} gives every disallowed class exactly 0 and the allowed ones a softmax of their own, stays finite "
        "for logits like 1000 and -30000, and returns zeros for a row with no allowed class."
    )
