"""Hand-derived gradients of the classification losses with respect to their logits (notebook 04).

For one sample of cross-entropy, -log softmax(z)_y = -z_y + log sum_j exp(z_j), so

    dL/dz = softmax(z) - onehot(y),

and every variant of the loss only rescales or re-targets that difference:

- class weights w (reduction 'mean'):  w[y_n] (softmax(z_n) - onehot(y_n)) / sum_m w[y_m];
- label smoothing a, no weights:       softmax(z) - q, with q = (1 - a) onehot(y) + a / C;
- probability targets t:               softmax(z) sum_c w_c t_c - w t (t smoothed first, if asked);
- binary cross-entropy on a logit x:    sigmoid(x) - y (with pos_weight p: (p y + 1 - y) sigmoid(x) - p y);
- for contrast, the squared error on sigmoid(x): 2 (sigmoid(x) - y) sigmoid(x) (1 - sigmoid(x)), which
  vanishes when the prediction is confidently wrong.

The functions take the arguments of the losses they differentiate (and validate them by running that
loss, so a wrong call raises the same error), and return d(loss)/d(input) computed from these closed
forms with losslab.softmax and elementary tensor ops, never with autograd. For reduction='none' they
return the gradient of the sum of the per-sample losses: row n holds d loss_n / d input_n.
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
    one_hot = torch.zeros_like(probs).scatter(1, safe_target.unsqueeze(1), 1.0)  # (N, C, d1, ...)
    target_weight = torch.where(kept, class_weight[safe_target], 0)  # (N, d1, ...): w[y_n], 0 if ignored

    # -w[y] log p_y  ->  w[y] (p - onehot(y)), divided by the sum of the kept target weights for 'mean'.
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
    """probs and target (N, C, d1, ...): -sum_c w_c t_c log p_c has the gradient p sum_c w_c t_c - w t."""
    n_classes = probs.shape[1]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    weighted_target = target if weight is None else target * _along_classes(weight, probs.dim())
    grad = probs * weighted_target.sum(dim=1, keepdim=True) - weighted_target
    if reduction == "mean":
        grad = grad / (probs.numel() // n_classes)  # mean over samples, whatever the weights
    return grad


def cross_entropy_grad(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """d cross_entropy(input, target, ...) / d input, by the closed form softmax - target.

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
    """d binary_cross_entropy_with_logits(input, target, ...) / d input = weight (sigmoid(input) - target),
    or with pos_weight p, weight ((p y + 1 - y) sigmoid(input) - p y); divided by input.numel() for 'mean'.

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
        positive = pos_weight.detach() * target  # the positive term's weight, p y
        grad = (positive + 1 - target) * probs - positive
    if weight is not None:
        grad = grad * weight.detach()
    if reduction == "mean":
        grad = grad / max(input.numel(), 1)  # (an empty input has an empty gradient)
    return grad.to(input.dtype)


def mse_on_sigmoid_grad(input, target, reduction="mean"):
    """d mse_loss(sigmoid(input), target) / d input = 2 (sigmoid(x) - y) sigmoid(x) (1 - sigmoid(x)),
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
