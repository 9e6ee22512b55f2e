"""Self-checks for notebook 08 (training and calibration).

    check_confidence_and_accuracy(confidence_and_accuracy)
                                  confidence_and_accuracy(logits (N, C), target (N,)) -> [mean confidence, accuracy] (2,)
    check_ece_from_bins(ece_from_bins)
                                  ece_from_bins(counts (B,), accuracy (B,), confidence (B,)) -> ECE ()
    check_scaled_nll(scaled_nll)  scaled_nll(logits (N, C), target (N,), temperature ()) -> NLL of logits / T ()
    check_nll_temperature_slope(nll_temperature_slope)
                                  nll_temperature_slope(logits (N, C), target (N,), temperature ()) -> dNLL/dT ()

Each runs the learner's function on fixed inputs, compares with losslab / autograd, and for the typical
mistakes (logits taken for probabilities, an unweighted mean over the bins, T multiplied instead of divided,
the derivative in 1 / T instead of T, ...) says which one it is and how to fix it.
"""

import torch

from ..calibration import temperature_nll
from ._checking import Wrong, answer_name, call_answer, close, first_match, fmt, self_check

# (N, C) = (6, 3), float64: confident rights, a confident wrong, a near tie; targets [0, 1, 2, 0, 1, 2].
LOGITS = torch.tensor(
    [
        [3.0, 0.5, -1.0],
        [0.2, 2.5, 0.1],
        [1.5, 0.0, 0.3],
        [0.4, 0.3, 0.1],
        [-1.0, 4.0, 0.5],
        [2.0, -0.5, 1.8],
    ],
    dtype=torch.float64,
)
TARGET = torch.tensor([0, 1, 2, 0, 1, 2])
TEMPERATURES = (torch.tensor(2.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64))
TOLERANCE = 1e-9  # float64 throughout

# Five bins, the first one empty (count 0; its accuracy and confidence are given as 0).
COUNTS = torch.tensor([0, 4, 10, 20, 6])
BIN_ACCURACY = torch.tensor([0.0, 0.25, 0.5, 0.7, 1.0], dtype=torch.float64)
BIN_CONFIDENCE = torch.tensor([0.0, 0.32, 0.51, 0.8, 0.9], dtype=torch.float64)


def _scalar(result, name, what):
    if result.numel() != 1 or result.dim() > 1:
        raise Wrong(f"{name} returned shape {tuple(result.shape)}: return {what}, one number (a 0-d tensor)")
    if not result.is_floating_point():
        raise Wrong(f"{name} returned a {result.dtype} tensor: return a float tensor")
    return result.reshape(())


# ------------------------------------------------------------- exercise 1: confidence_and_accuracy


def _confidence_mistakes(logits, target):
    probs = torch.softmax(logits, dim=1)
    confidence, prediction = probs.max(dim=1)
    accuracy = (prediction == target).double().mean()
    true_prob = probs[torch.arange(len(target)), target]
    return [
        (
            torch.stack([logits.max(dim=1).values.mean(), accuracy]),
            "your confidence is the mean of the largest *logit*: take the softmax first, the confidence is the "
            "largest probability max_c p_c",
        ),
        (
            torch.stack([true_prob.mean(), accuracy]),
            "your confidence is the probability of the *true* class; the confidence is what the model gives its "
            "own prediction, max_c p_c, whether it is right or not",
        ),
        (
            torch.stack([accuracy, confidence.mean()]),
            "the two numbers are swapped: return [mean confidence, accuracy]",
        ),
        (
            torch.stack([torch.softmax(logits, dim=0).max(dim=1).values.mean(), accuracy]),
            "your softmax runs over dim 0 (the batch): normalise each row over its classes, dim=1",
        ),
    ]


@self_check
def check_confidence_and_accuracy(confidence_and_accuracy):
    """confidence_and_accuracy(logits (N, C), target (N,)) -> tensor [mean confidence, accuracy], shape (2,)."""
    name = answer_name(confidence_and_accuracy)
    result = call_answer(confidence_and_accuracy, LOGITS, TARGET)
    if result.shape != (2,):
        raise Wrong(f"{name} returned shape {tuple(result.shape)}: return two numbers, [mean confidence, accuracy]")
    if not result.is_floating_point():
        raise Wrong(f"{name} returned a {result.dtype} tensor: return floats (the accuracy is a fraction)")
    probs = torch.softmax(LOGITS, dim=1)
    confidence, prediction = probs.max(dim=1)
    expected = torch.stack([confidence.mean(), (prediction == TARGET).double().mean()])
    if not close(result, expected, TOLERANCE):
        message = first_match(result, _confidence_mistakes(LOGITS, TARGET), TOLERANCE)
        if message:
            raise Wrong(message)
        raise Wrong(
            f"for these logits the answer is {fmt(expected)} (mean confidence, accuracy), you return {fmt(result)}"
        )
    return (
        f"{name} gives the mean confidence {fmt(expected[0])} and the accuracy {fmt(expected[1])}: the model is "
        "calibrated on average when the two agree (ECE asks the same of every confidence bin)."
    )


# ----------------------------------------------------------------------- exercise 2: ece_from_bins


def _ece_mistakes(counts, accuracy, confidence):
    filled = counts > 0
    share = counts[filled].double() / counts.sum()
    gaps = accuracy[filled] - confidence[filled]
    return [
        (
            (accuracy - confidence).abs().mean(),
            "you averaged the gaps of all the bins with equal weights, the empty one too: weight each bin's gap "
            "by its share of the predictions, |B_b| / N (an empty bin then counts 0)",
        ),
        (
            gaps.abs().mean(),
            "you averaged the bins' gaps with equal weights: a bin holding 20 predictions must count five times "
            "as much as one holding 4, weight each gap by |B_b| / N",
        ),
        (
            (share * gaps).sum().abs(),
            "you took the absolute value after summing, so over- and under-confident bins cancel: take "
            "|acc(B_b) - conf(B_b)| in each bin, then the weighted sum",
        ),
        (
            (share * gaps).sum(),
            "the gaps have a sign: take |acc(B_b) - conf(B_b)| in each bin, so that no bin cancels another",
        ),
        (
            (counts[filled].double() * gaps.abs()).sum(),
            "you weighted by the counts |B_b| without dividing by N, the number of predictions: weights |B_b| / N",
        ),
        (
            (share * gaps.abs()).sum() / len(counts),
            "you divided by the number of bins: the weights |B_b| / N already add up to 1",
        ),
    ]


@self_check
def check_ece_from_bins(ece_from_bins):
    """ece_from_bins(counts (B,), accuracy (B,), confidence (B,)) -> the ECE, a 0-d tensor; an empty bin has
    count 0 (and accuracy and confidence 0)."""
    name = answer_name(ece_from_bins)
    result = _scalar(call_answer(ece_from_bins, COUNTS, BIN_ACCURACY, BIN_CONFIDENCE), name, "the ECE")
    filled = COUNTS > 0
    expected = (COUNTS[filled].double() / COUNTS.sum() * (BIN_ACCURACY - BIN_CONFIDENCE)[filled].abs()).sum()
    if torch.isnan(result):
        raise Wrong(f"{name} returned nan: the first bin is empty, so divide by N = counts.sum(), never by its count")
    if not close(result, expected, TOLERANCE):
        message = first_match(result, _ece_mistakes(COUNTS, BIN_ACCURACY, BIN_CONFIDENCE), TOLERANCE)
        if message:
            raise Wrong(message)
        raise Wrong(f"for these bins the ECE is {fmt(expected)}, you return {fmt(result)}")
    return (
        f"{name} gives {fmt(expected)}: sum_b |B_b| / N * |acc(B_b) - conf(B_b)|, the bin of 20 predictions "
        "weighing most and the empty one nothing."
    )


# -------------------------------------------------------------------------- exercise 3: scaled_nll


def _nll_mistakes(logits, target, temperature):
    rows = torch.arange(len(target))
    return [
        (
            temperature_nll(logits * temperature, target, 1.0),
            "you multiplied the logits by T: temperature scaling divides them, z / T (T > 1 softens)",
        ),
        (
            torch.nn.functional.cross_entropy(torch.softmax(logits / temperature, dim=1), target),
            "you passed probabilities to cross_entropy, which applies softmax again (the double softmax): give it "
            "the scaled logits z / T",
        ),
        (
            -torch.log_softmax(logits / temperature, dim=1)[rows, target].sum(),
            "you return the sum over the examples: the NLL is their mean",
        ),
        (
            temperature_nll(logits, target, 1.0),
            "the temperature did not change anything: divide the logits by T before the log-softmax",
        ),
        (
            -torch.log_softmax(logits, dim=1)[rows, target].mean() / temperature,
            "you divided the loss by T, not the logits: log_softmax(z / T) is not log_softmax(z) / T",
        ),
    ]


@self_check
def check_scaled_nll(scaled_nll):
    """scaled_nll(logits (N, C), target (N,), temperature ()) -> the mean cross-entropy of logits / T, a 0-d tensor."""
    name = answer_name(scaled_nll)
    for temperature in TEMPERATURES:
        result = _scalar(call_answer(scaled_nll, LOGITS, TARGET, temperature), name, "the mean NLL")
        expected = temperature_nll(LOGITS, TARGET, temperature)
        if close(result, expected, TOLERANCE):
            continue
        message = first_match(result, _nll_mistakes(LOGITS, TARGET, temperature), TOLERANCE)
        if message:
            raise Wrong(f"at T = {float(temperature):g}, {message}")
        raise Wrong(f"at T = {float(temperature):g} the NLL is {fmt(expected)}, you return {fmt(result)}")
    return (
        f"{name} matches F.cross_entropy(logits / T, target) at T = 2 and T = 0.5: "
        f"{fmt(temperature_nll(LOGITS, TARGET, 2.0))} and {fmt(temperature_nll(LOGITS, TARGET, 0.5))}."
    )


# ------------------------------------------------------------------ exercise 4: nll_temperature_slope


def _autograd_slope(logits, target, temperature):
    t = temperature.detach().clone().double().requires_grad_()
    log_probs = torch.log_softmax(logits / t, dim=1)
    nll = -log_probs[torch.arange(len(target)), target].mean()
    (slope,) = torch.autograd.grad(nll, t)
    return slope


def _slope_mistakes(logits, target, temperature):
    probs = torch.softmax(logits / temperature, dim=1)
    beta_slope = ((probs * logits).sum(dim=1) - logits[torch.arange(len(target)), target]).mean()  # dNLL/d(1/T)
    return [
        (
            beta_slope,
            "that is the derivative in beta = 1 / T, what the notebook's Newton method used. By the chain rule "
            "dNLL/dT = dNLL/dbeta * dbeta/dT, and dbeta/dT = -1 / T^2",
        ),
        (
            -beta_slope,
            "you multiplied by -1 but not by 1 / T^2: dbeta/dT = -1 / T^2",
        ),
        (
            beta_slope / temperature**2,
            "the sign is flipped: beta = 1 / T falls as T grows, dbeta/dT = -1 / T^2",
        ),
        (
            -beta_slope / temperature,
            "the factor is -1 / T^2, not -1 / T: the derivative of 1 / T is -1 / T^2",
        ),
    ]


@self_check
def check_nll_temperature_slope(nll_temperature_slope):
    """nll_temperature_slope(logits (N, C), target (N,), temperature ()) -> dNLL/dT, a 0-d tensor: the slope of
    the mean cross-entropy of logits / T in T."""
    name = answer_name(nll_temperature_slope)
    for temperature in TEMPERATURES:
        result = call_answer(nll_temperature_slope, LOGITS, TARGET, temperature)
        result = _scalar(result.detach(), name, "the derivative")
        expected = _autograd_slope(LOGITS, TARGET, temperature)
        if close(result, expected, TOLERANCE):
            continue
        message = first_match(result, _slope_mistakes(LOGITS, TARGET, temperature), TOLERANCE)
        if message:
            raise Wrong(f"at T = {float(temperature):g}, {message}")
        raise Wrong(f"at T = {float(temperature):g} the slope dNLL/dT is {fmt(expected)}, you return {fmt(result)}")
    return (
        f"{name} matches autograd: dNLL/dT = -(1 / T^2) mean_n [E_p(z_n) - z_(n, y_n)], "
        f"{fmt(_autograd_slope(LOGITS, TARGET, TEMPERATURES[0]))} at T = 2. It is zero at the fitted temperature."
    )
