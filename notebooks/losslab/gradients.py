"""Hand-derived gradients of the classification losses with respect to their logits (notebook 04).

In the course's notation (losslab/notation.md): z the logits, p = softmax(z) the model's probabilities, y the
class index and e_y its one-hot vector, q a target distribution, l the loss of one sample, L the reduced loss.
One sample's cross-entropy is l = -log p_y = -z_y + log sum_j exp(z_j), so

    dl/dz = p - e_y,

and every variant of the loss only rescales or re-targets that difference:

- the mean over N samples:              dL/dz_n = (p_n - e_{y_n}) / N;
- class weights w (reduction 'mean'):   w[y_n] (p_n - e_{y_n}) / sum_m w[y_m];
- label smoothing a, no weights:        p - q, with q = (1 - a) e_y + a / C;
- probability targets q:                p sum_c w_c q_c - w q (q smoothed first, if asked);
- binary cross-entropy on one logit z:  sigmoid(z) - y (with pos_weight w_p: (w_p y + 1 - y) sigmoid(z) - w_p y);
- for contrast, the squared error on p = sigmoid(z): 2 (p - y) p (1 - p), which vanishes when the prediction
  is confidently wrong.

The functions take the arguments of the losses they differentiate (and validate them by running that
loss, so a wrong call raises the loss's exception type, with losslab's message), and return d(loss)/d(input)
computed from these closed forms with losslab.softmax and elementary tensor ops, never with autograd. For
reduction='none' they return the gradient of the sum of the per-sample losses: row n holds dl_n / dz_n.
"""

import math

import torch

from ._validation import check_floating, check_reduction
from .binary import _sigmoid, binary_cross_entropy_with_logits
from .cross_entropy import cross_entropy
from .softmax import softmax


def _along_classes(values, ndim):
    """View a (C,) vector so it multiplies dim 1 of an (N, C, d1, ...) tensor with `ndim` dimensions."""
    return values.view(1, -1, *([1] * (ndim - 2)))


def _index_target_grad(probs, target, weight, ignore_index, reduction, label_smoothing):
    """probs (N, C, d1, ...), target (N, d1, ...) of class indices: the gradient w.r.t. the logits."""
    n_classes = probs.shape[1]
    class_weight = torch.ones(n_classes, dtype=probs.dtype) if weight is None else weight.flatten()  # (C,)
    long_target = target.long()
    kept = long_target != ignore_index  # (N, d1, ...)
    safe_target = torch.where(kept, long_target, 0)  # any valid index where ignored; masked below
    one_hot = torch.zeros_like(probs).scatter(1, safe_target.unsqueeze(1), 1.0)  # (N, C, d1, ...): e_y
    target_weight = torch.where(kept, class_weight[safe_target], 0)  # (N, d1, ...): w[y_n], 0 if ignored

    # -w[y] log p_y  ->  w[y] (p - e_y), divided by the sum of the kept target weights for 'mean'.
    grad = target_weight.unsqueeze(1) * (probs - one_hot)
    if reduction == "mean":
        grad = grad / target_weight.sum()
    grad = torch.where(kept.unsqueeze(1), grad, 0)  # an ignored row has no gradient, even when 0 / 0

    if label_smoothing > 0:
        # The uniform part, a / C times -sum_c w_c log p_c per sample, has the gradient W p - w (W = sum_c w_c).
        # (As in PyTorch, this part compares the target with ignore_index in the target's own dtype.)
        smooth_kept = target != ignore_index
        class_weight = _along_classes(class_weight, probs.dim())  # (1, C, 1, ...)
        uniform_grad = probs * class_weight.sum() - class_weight
        if reduction == "mean":
            total = smooth_kept.sum() if weight is None else weight.flatten()[long_target[smooth_kept]].sum()
            uniform_grad = uniform_grad / total
        uniform_grad = torch.where(smooth_kept.unsqueeze(1), uniform_grad, 0)
        per_class = label_smoothing / n_classes if n_classes else math.inf
        grad = (1 - label_smoothing) * grad + per_class * uniform_grad
    return grad


def _probability_target_grad(probs, target, weight, reduction, label_smoothing):
    """probs and target q (N, C, d1, ...): -sum_c w_c q_c log p_c has the gradient p sum_c w_c q_c - w q."""
    n_classes = probs.shape[1]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    weighted_target = target if weight is None else target * _along_classes(weight, probs.dim())
    grad = probs * weighted_target.sum(dim=1, keepdim=True) - weighted_target
    if reduction == "mean":
        grad = grad / (probs.numel() // n_classes)  # mean over samples, whatever the weights
    return grad


def cross_entropy_grad(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """d cross_entropy(input, target, ...) / d input, by the closed form p - e_y (or p - q), rescaled.

    Takes the arguments of losslab.cross_entropy / torch.nn.functional.cross_entropy: input (C,),
    (N, C) or (N, C, d1, ...) of logits; target of class indices, or of class probabilities (the
    input's shape). Returns a tensor of the input's shape and dtype.
    """
    reduction = check_reduction(reduction)
    input, target = input.detach(), target.detach()
    cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)  # raises as the loss does
    weight = None if weight is None else weight.detach()
    if input.numel() == 0:
        return torch.zeros_like(input)
    probability_target = input.shape == target.shape
    unbatched = input.dim() == 1
    if unbatched:  # work on a batch of one: (1, C) with a (1,) target, or a (1, C) probability target
        input = input.unsqueeze(0)
        target = target.unsqueeze(0) if probability_target else target.reshape(1)
    probs = softmax(input, dim=1)  # (N, C, d1, ...)
    if probability_target:
        grad = _probability_target_grad(probs, target, weight, reduction, label_smoothing)
    else:
        grad = _index_target_grad(probs, target, weight, ignore_index, reduction, label_smoothing)
    grad = grad.to(input.dtype)
    return grad.squeeze(0) if unbatched else grad


def binary_cross_entropy_with_logits_grad(input, target, weight=None, reduction="mean", pos_weight=None):
    """d binary_cross_entropy_with_logits(input, target, ...) / d input = weight (sigmoid(z) - y) for logits z
    and labels y, or with pos_weight w_p, weight ((w_p y + 1 - y) sigmoid(z) - w_p y); divided by input.numel()
    for 'mean'.

    Takes the arguments of losslab.binary_cross_entropy_with_logits / its torch namesake (same order:
    reduction before pos_weight). Returns a tensor of the input's shape and dtype.
    """
    reduction = check_reduction(reduction)
    input, target = input.detach(), target.detach()
    binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)  # raises as the loss does
    probs = _sigmoid(input)
    if pos_weight is None:
        grad = probs - target
    else:
        positive = pos_weight.detach() * target  # the positive term's weight, w_p y
        grad = (positive + 1 - target) * probs - positive
    if weight is not None:
        grad = grad * weight.detach()
    if reduction == "mean":
        grad = grad / max(input.numel(), 1)  # (an empty input has an empty gradient)
    return grad.to(input.dtype)


def mse_on_sigmoid_grad(input, target, reduction="mean"):
    """d mse_loss(sigmoid(input), target) / d input = 2 (p - y) p (1 - p) with p = sigmoid(z),
    divided by input.numel() for 'mean': the gradient that vanishes when sigmoid saturates.

    input holds logits, target labels of the same shape (torch's mse_loss would broadcast them; we refuse).
    """
    reduction = check_reduction(reduction)
    check_floating(input, "mse_on_sigmoid_grad's input")
    if target.shape != input.shape:
        raise ValueError(
            f"target of shape {list(target.shape)} for an input of shape {list(input.shape)}: "
            "give the target the input's shape, one label per logit"
        )
    probs = _sigmoid(input.detach())
    grad = 2 * (probs - target.detach()) * probs * (1 - probs)
    if reduction == "mean":
        grad = grad / max(input.numel(), 1)
    return grad.to(input.dtype)
