"""Label smoothing, as notebook 06 derives it.

A one-hot target asks for an infinite logit gap; label smoothing replaces it with

    q = (1 - alpha) * onehot(target) + alpha / C,

so the true class gets 1 - alpha + alpha / C and every other class alpha / C. Cross-entropy against q
is what `cross_entropy(..., label_smoothing=alpha)` computes. For one example with logits
[g, 0, ..., 0] and target 0, the loss is smallest at the finite gap g* = log(q_true / q_other),
where softmax equals q and the loss equals the entropy H(q).

    smooth_targets(target, num_classes, alpha)      class indices (*,) -> smoothed targets (*, C)
    smooth_binary_labels(labels, alpha)             0/1 (or soft) labels -> y (1 - alpha) + alpha / 2
    optimal_logit_gap(alpha, num_classes)           log((1 - alpha + alpha / C) / (alpha / C)); inf at 0
    minimum_loss(alpha, num_classes)                the loss at that gap: the entropy of q
    loss_along_gap(gaps, alpha, num_classes)        the smoothed loss of logits [g, 0, ..., 0], target 0
    weighted_optimum(weight, target, alpha)         the best probabilities under weight= and smoothing:
                                                    w * q / sum(w * q)
"""

import math
import numbers

import torch

from .cross_entropy import cross_entropy


def check_alpha(alpha, name="alpha"):
    """alpha as a float in [0, 1]; anything else (including nan) raises ValueError."""
    if isinstance(alpha, torch.Tensor):
        if alpha.numel() != 1:
            raise ValueError(f"{name} must be a single number, got a tensor of shape {list(alpha.shape)}: pass a float")
        alpha = alpha.item()
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(alpha).__name__}: pass a float such as 0.1")
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(
            f"{name} must be between 0.0 and 1.0. Got: {alpha}: pass a value in [0, 1], "
            "the share of the target mass spread uniformly over the classes"
        )
    return alpha


def _check_num_classes(num_classes, minimum=1):
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"num_classes must be an int, got {type(num_classes).__name__}: pass the number of classes C")
    if num_classes < minimum:
        raise ValueError(f"num_classes must be at least {minimum}, got {num_classes}: pass the number of classes C")
    return int(num_classes)


def smooth_targets(target, num_classes, alpha, dtype=torch.float32):
    """The smoothed targets (1 - alpha) onehot(target) + alpha / C for class indices `target` of any
    shape (*,): a float tensor of shape (*, C), each row summing to 1."""
    alpha = check_alpha(alpha)
    num_classes = _check_num_classes(num_classes)
    if (
        not isinstance(target, torch.Tensor)
        or target.is_floating_point()
        or target.is_complex()
        or target.dtype == torch.bool
    ):
        kind = type(target).__name__ if not isinstance(target, torch.Tensor) else target.dtype
        raise TypeError(
            f"target must be a tensor of class indices (int64), got {kind}: use target.long(); "
            "smoothing class probabilities is (1 - alpha) * probs + alpha / C"
        )
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        bad = int(target[(target < 0) | (target >= num_classes)].flatten()[0])
        raise IndexError(
            f"Target {bad} is out of bounds: give class indices in [0, {num_classes - 1}] for {num_classes} classes"
        )
    one_hot = (target.long().unsqueeze(-1) == torch.arange(num_classes)).to(dtype)  # (*, C)
    return one_hot * (1 - alpha) + alpha / num_classes


def smooth_binary_labels(labels, alpha):
    """Binary (or soft) labels y in [0, 1] smoothed towards 1/2: y (1 - alpha) + alpha / 2.

    Two classes, so alpha / 2, whatever the batch holds: 0 becomes alpha / 2, 1 becomes 1 - alpha / 2.
    The result is a float tensor (labels given as integers become float32)."""
    alpha = check_alpha(alpha)
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a tensor, got {type(labels).__name__}: use torch.tensor(labels)")
    if not labels.is_floating_point():
        labels = labels.float()
    if labels.numel() and not ((labels >= 0) & (labels <= 1)).all():
        raise ValueError("labels must be between 0 and 1: give binary labels (0 or 1) or soft labels in [0, 1]")
    return labels * (1 - alpha) + alpha / 2


def optimal_logit_gap(alpha, num_classes):
    """The gap g that minimises the smoothed loss of logits [g, 0, ..., 0] with target 0:
    log((1 - alpha + alpha / C) / (alpha / C)). Without smoothing (alpha = 0) there is no minimum: inf."""
    alpha = check_alpha(alpha)
    num_classes = _check_num_classes(num_classes, minimum=2)
    if alpha == 0.0:
        return math.inf
    return math.log((1 - alpha + alpha / num_classes) / (alpha / num_classes))


def minimum_loss(alpha, num_classes):
    """The smallest smoothed loss one example can reach, at the optimal gap where p = q: the entropy
    H(q) = sum_c q_c log(1 / q_c) (0 without smoothing)."""
    alpha = check_alpha(alpha)
    num_classes = _check_num_classes(num_classes, minimum=2)
    q_true, q_other = 1 - alpha + alpha / num_classes, alpha / num_classes
    entropy = q_true * math.log(1 / q_true)  # the true class
    if q_other > 0:  # the C - 1 others (a class with q_c = 0 adds nothing: q log(1/q) -> 0)
        entropy += (num_classes - 1) * q_other * math.log(1 / q_other)
    return entropy


def loss_along_gap(gaps, alpha, num_classes):
    """The smoothed cross-entropy of the logits [g, 0, ..., 0] with target 0, for every g in `gaps` (G,):
    a float64 tensor (G,)."""
    alpha = check_alpha(alpha)
    num_classes = _check_num_classes(num_classes, minimum=2)
    gaps = torch.as_tensor(gaps, dtype=torch.float64).flatten()  # (G,)
    logits = torch.zeros(gaps.numel(), num_classes, dtype=torch.float64)  # (G, C)
    logits[:, 0] = gaps
    target = torch.zeros(gaps.numel(), dtype=torch.long)  # (G,)
    return cross_entropy(logits, target, label_smoothing=alpha, reduction="none")


def weighted_optimum(weight, target, alpha):
    """The probabilities that minimise cross_entropy(logits, target, weight=weight, label_smoothing=alpha)
    for one example: w * q / sum(w * q), not q itself. `weight` (C,) > 0, `target` a class index."""
    alpha = check_alpha(alpha)
    weight = torch.as_tensor(weight)
    if weight.dim() != 1 or not weight.is_floating_point():
        raise ValueError(
            "weight must be a 1-D float tensor with one weight per class: pass e.g. torch.tensor([1.0, 2.0])"
        )
    if not (weight > 0).all():
        raise ValueError("every class weight must be > 0 for the optimum to be a distribution: give positive weights")
    q = smooth_targets(torch.as_tensor(target), weight.numel(), alpha, dtype=weight.dtype)  # (C,)
    weighted = weight * q
    return weighted / weighted.sum()
