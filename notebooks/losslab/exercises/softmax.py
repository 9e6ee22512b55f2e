"""Self-checks for notebook 01 (logits and softmax).

    check_stable_softmax(stable_softmax)              stable_softmax(logits (N, C)) -> (N, C)
    check_temperature(softmax_with_temperature)       softmax_with_temperature(logits (N, C), T) -> (N, C)
    check_logits_from_probabilities(logits_from_probabilities)
                                                      logits_from_probabilities(probs (N, C)) -> (N, C)

Each runs the learner's function on a few fixed inputs, compares with PyTorch to within
1e-6, and for the typical mistakes says which one it is and how to fix it.
"""

import torch

from ._checking import Wrong, answer_name, call_answer, close, fmt, self_check

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
