"""Calibration, as notebook 08 measures and repairs it.

A model is calibrated when, among the predictions it makes with confidence about 0.8, about 80% are
right. The confidence of a prediction is its largest probability max_c p_c. The expected calibration
error sorts the predictions into equal-width bins of confidence, (0, 1/B], (1/B, 2/B], ..., and averages
|accuracy - mean confidence| over the bins, each weighted by its share of the predictions:

    ECE = sum_b |B_b| / N * |acc(B_b) - conf(B_b)|.

Temperature scaling divides every logit by one number T > 0 fitted on held-out data by minimising the
negative log-likelihood (the mean cross-entropy): it moves the confidences and never the predicted class.

    confidence(probs)                              the confidence max_c p_c of each row (N,)
    bin_predictions(confidences, correct, n_bins)  per-bin counts, accuracy and mean confidence
    reliability_bins(probs, target, n_bins=15)     the same from probabilities and true classes
    ece(probs, target, n_bins=15)                  the expected calibration error, a 0-d tensor
    temperature_nll(logits, target, temperature)   the mean cross-entropy of logits / T
    fit_temperature(logits, target)                the T > 0 that minimises it (Newton's method in 1 / T)
"""

import math
import numbers
from typing import NamedTuple

import torch

DEFAULT_BINS = 15
ROW_SUM_TOLERANCE = 1e-4  # probabilities computed in float32 sum to 1 within a few 1e-7
MAX_BETA = 1e6  # 1 / T beyond this: the NLL has no minimum (T -> 0)


class ReliabilityBins(NamedTuple):
    """Equal-width confidence bins: `edges` (B + 1,), and per bin (B,) the number of predictions
    `counts`, their `accuracy` and their mean `confidence` (nan in an empty bin)."""

    edges: torch.Tensor
    counts: torch.Tensor
    accuracy: torch.Tensor
    confidence: torch.Tensor


def _check_n_bins(n_bins):
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral):
        raise TypeError(f"n_bins must be an int, got {type(n_bins).__name__}: pass the number of bins, e.g. 15")
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}: pass the number of bins, e.g. 15")
    return int(n_bins)


def _check_probs(probs):
    if not isinstance(probs, torch.Tensor):
        raise TypeError(f"probs must be a tensor, got {type(probs).__name__}: use torch.softmax(logits, dim=1)")
    if not probs.is_floating_point():
        raise TypeError(f"probs must be a floating-point tensor, got {probs.dtype}: convert it with .double()")
    if probs.dim() != 2 or probs.shape[1] < 1:
        raise ValueError(
            f"probs must have shape (N, C), one row of class probabilities per example, got {list(probs.shape)}: "
            "pass torch.softmax(logits, dim=1)"
        )
    if probs.numel() and not (torch.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
        raise ValueError("probs must be probabilities in [0, 1]: give softmax outputs, not logits")
    sums = probs.double().sum(dim=1)
    if probs.numel() and not torch.allclose(sums, torch.ones_like(sums), rtol=0, atol=ROW_SUM_TOLERANCE):
        raise ValueError(
            "each row of probs must sum to 1: give torch.softmax(logits, dim=1) (logits or unnormalised "
            "scores are not probabilities)"
        )


def _check_target(target, n_samples, n_classes):
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.dtype == torch.bool:
        kind = target.dtype if isinstance(target, torch.Tensor) else type(target).__name__
        raise TypeError(f"target must be a tensor of class indices (int64), got {kind}: use target.long()")
    if target.shape != (n_samples,):
        raise ValueError(
            f"target must have shape (N,) = ({n_samples},), one class index per row of probs, got "
            f"{list(target.shape)}: pass the true classes"
        )
    if target.numel() and (target.min() < 0 or target.max() >= n_classes):
        bad = int(target[(target < 0) | (target >= n_classes)][0])
        raise IndexError(f"Target {bad} is out of bounds: give class indices in [0, {n_classes - 1}]")


def confidence(probs):
    """The confidence of each prediction, its largest probability max_c p_c: shape (N,) for probs (N, C)."""
    _check_probs(probs)
    return probs.max(dim=1).values


def bin_predictions(confidences, correct, n_bins=DEFAULT_BINS):
    """Sort predictions into `n_bins` equal-width bins of confidence, (0, 1/B], (1/B, 2/B], ..., (1 - 1/B, 1]
    (a confidence of exactly 0 goes to the first bin), and return the `ReliabilityBins`.

    `confidences` (N,) in [0, 1]; `correct` (N,) bool (or 0/1): whether each prediction is right."""
    n_bins = _check_n_bins(n_bins)
    if not isinstance(confidences, torch.Tensor) or not confidences.is_floating_point() or confidences.dim() != 1:
        raise ValueError("confidences must be a 1-D float tensor (N,): pass confidence(probs)")
    if not isinstance(correct, torch.Tensor) or correct.shape != confidences.shape:
        raise ValueError(
            f"correct must be a tensor of the confidences' shape {list(confidences.shape)}: pass "
            "probs.argmax(dim=1) == target"
        )
    if confidences.numel() and not ((confidences >= 0) & (confidences <= 1)).all():
        raise ValueError("confidences must lie in [0, 1]: pass the largest probability of each row")
    dtype = confidences.dtype
    edges = torch.linspace(0, 1, n_bins + 1, dtype=dtype)  # (B + 1,)
    index = torch.bucketize(confidences, edges[1:-1])  # (N,): b with edges[b] < conf <= edges[b + 1]
    counts = torch.bincount(index, minlength=n_bins)  # (B,)
    hits = torch.bincount(index, weights=correct.to(dtype), minlength=n_bins)
    summed_confidence = torch.bincount(index, weights=confidences, minlength=n_bins)
    # An empty bin has no accuracy: 0 / 0 = nan, which ece skips (its weight is 0)
    return ReliabilityBins(edges, counts, hits / counts, summed_confidence / counts)


def reliability_bins(probs, target, n_bins=DEFAULT_BINS):
    """The `ReliabilityBins` of the predictions argmax_c p_c of `probs` (N, C) against the classes `target` (N,)."""
    _check_probs(probs)
    _check_target(target, *probs.shape)
    confidences, predictions = probs.max(dim=1)
    return bin_predictions(confidences, predictions == target, n_bins)


def ece(probs, target, n_bins=DEFAULT_BINS):
    """The expected calibration error of `probs` (N, C) against the classes `target` (N,) over `n_bins`
    equal-width bins: sum_b |B_b| / N * |acc(B_b) - conf(B_b)|, a 0-d tensor in [0, 1] (nan if N = 0)."""
    bins = reliability_bins(probs, target, n_bins)
    filled = bins.counts > 0
    share = bins.counts[filled].to(probs.dtype) / len(target)
    gaps = (bins.accuracy[filled] - bins.confidence[filled]).abs()
    return (share * gaps).sum() if len(target) else torch.tensor(math.nan, dtype=probs.dtype)


def _check_logits(logits, target):
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point() or logits.dim() != 2:
        raise ValueError("logits must be a float tensor of shape (N, C): pass the model's raw scores")
    if logits.shape[0] == 0:
        raise ValueError("logits has no rows: temperature scaling needs at least one example")
    if not torch.isfinite(logits).all():
        raise ValueError("logits must be finite: a nan or an infinite logit has no temperature")
    _check_target(target, *logits.shape)


def _check_temperature(temperature):
    if isinstance(temperature, torch.Tensor):
        if temperature.numel() != 1:
            raise ValueError(f"temperature must be one number, got a tensor of shape {list(temperature.shape)}")
        temperature = temperature.item()
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}: pass a float such as 1.5")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}: T divides the logits")
    return float(temperature)


def temperature_nll(logits, target, temperature):
    """The negative log-likelihood (the mean cross-entropy) of the logits divided by `temperature`: a 0-d tensor."""
    _check_logits(logits, target)
    temperature = _check_temperature(temperature)
    log_probs = torch.log_softmax(logits / temperature, dim=1)
    return -log_probs[torch.arange(len(target)), target].mean()


def fit_temperature(logits, target, tolerance=1e-12, max_steps=100):
    """The temperature T > 0 that minimises temperature_nll(logits, target, T), as a float.

    Works in beta = 1 / T, where the NLL, mean_n [logsumexp(beta z_n) - beta z_{n, y_n}], is convex: its
    derivative is mean_n [E_p(z_n) - z_{n, y_n}] and its second derivative mean_n Var_p(z_n) >= 0. Newton's
    method from beta = 1, halving a step that would raise the NLL or make beta <= 0, until the derivative
    is within `tolerance` (times 1 + max |z|) or a step no longer changes beta. If every example is predicted right, the
    NLL keeps falling as T -> 0; if the logits do no better than a uniform guess, it keeps falling as T grows:
    either way there is no minimum, ValueError."""
    _check_logits(logits, target)
    logits = logits.double()
    rows = torch.arange(len(target))
    target_logits = logits[rows, target]  # (N,)

    def nll_and_derivatives(beta):
        scaled = beta * logits
        log_probs = torch.log_softmax(scaled, dim=1)
        probs = log_probs.exp()
        mean_logit = (probs * logits).sum(dim=1)  # (N,): E_p(z)
        variance = (probs * (logits - mean_logit[:, None]) ** 2).sum(dim=1)  # (N,): Var_p(z)
        nll = -log_probs[rows, target].mean()
        return nll.item(), (mean_logit - target_logits).mean().item(), variance.mean().item()

    if (target_logits >= logits.max(dim=1).values).all():
        raise ValueError(
            "no temperature minimises the NLL here: every example is predicted right, so the NLL keeps falling "
            "as T -> 0; fit T on held-out data the model gets partly wrong"
        )
    if (logits.mean(dim=1) - target_logits).mean() >= 0:  # NLL'(0) >= 0: the NLL only falls as T -> infinity
        raise ValueError(
            "no temperature minimises the NLL here: the logits do no better than a uniform guess (the NLL keeps "
            "falling as T grows without bound); check that the logits belong to these targets"
        )
    beta = 1.0
    nll, slope, curvature = nll_and_derivatives(beta)
    scale = 1.0 + logits.abs().max().item()  # the slope is a mean of logit differences: its rounding scales so
    for _ in range(max_steps):
        if abs(slope) <= tolerance * scale:
            break
        step = newton = -slope / curvature if curvature > 0 else -slope
        for _ in range(60):  # halve the step until beta stays > 0 and the NLL does not rise
            candidate = beta + step
            if candidate > 0:
                new = nll_and_derivatives(candidate)
                if new[0] <= nll:
                    break
            step /= 2
        else:
            break  # no step lowers the NLL: the minimum, to rounding
        converged = abs(newton) <= 1e-15 * beta  # Newton's own step is below rounding: nothing left to gain
        beta, (nll, slope, curvature) = candidate, new
        if converged:
            break
        if beta > MAX_BETA:
            raise ValueError(f"no temperature minimises the NLL here: T fell below {1 / MAX_BETA:g}; check the logits")
    return 1.0 / beta
