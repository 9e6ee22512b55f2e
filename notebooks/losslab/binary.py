"""Binary cross-entropy, on probabilities and (stably) on logits, with PyTorch's semantics.

BCE(p, y) = -[y log p + (1 - y) log(1 - p)], each log clamped at -100 as PyTorch does.
On logits z the stable form is (1 - y) z - log sigmoid(z), with
log sigmoid(z) = min(z, 0) - log(1 + exp(-|z|)), which never overflows.
"""

import torch

from ._validation import check_constant, check_floating, check_reduction, reduce, torch_at_least

LOG_CLAMP = -100.0  # PyTorch clamps each log at -100, so BCE(p=0, y=1) is 100, not inf
# PyTorch's backward divides by max(p (1 - p), 1e-12), with 1e-12 a float32 constant (9.99999996e-13).
GRAD_EPS = torch.tensor(1e-12, dtype=torch.float32).item()


def _clamped_bce(probs, target):
    """-[y log p + (1 - y) log(1 - p)] per element, each log clamped at -100 as PyTorch does."""
    log_p = probs.log().clamp(min=LOG_CLAMP)  # log 0 = -inf becomes -100
    log_not_p = torch.log1p(-probs).clamp(min=LOG_CLAMP)
    return (target - 1) * log_not_p - target * log_p  # a dead term is 0 * (-100) = 0, not 0 * (-inf) = nan


class _ClampedBCE(torch.autograd.Function):
    """Element-wise BCE on probabilities, with PyTorch's own backward formula.

    Autograd through the clamp would give 0 * inf = nan at p = 0 or 1; PyTorch instead
    defines the gradient there as (p - y) / 1e-12, and we mirror it.
    """

    @staticmethod
    def forward(ctx, probs, target):
        ctx.save_for_backward(probs, target)
        return _clamped_bce(probs, target)

    @staticmethod
    def backward(ctx, grad):
        probs, target = ctx.saved_tensors
        grad_probs = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_probs = grad * (probs - target) / ((1 - probs) * probs).clamp(min=GRAD_EPS)
        if ctx.needs_input_grad[1]:
            grad_target = -grad * (probs / (1 - probs)).log()
        return grad_probs, grad_target


def _log_sigmoid(z):
    """log sigmoid(z) = min(z, 0) - log(1 + e^{-|z|}): the exponent -|z| is never positive, so nothing overflows."""
    return z.clamp(max=0) - torch.log1p(torch.exp(-z.abs()))


def _sigmoid(z):
    small = torch.exp(-z.abs())  # <= 1, so neither branch overflows
    return torch.where(z >= 0, 1 / (1 + small), small / (1 + small))


def _bce_with_logits(logits, target, pos_weight=None):
    """(1 - y) z - log sigmoid(z) per element, its positive term -y log sigmoid(z) times pos_weight if given."""
    log_sigmoid = _log_sigmoid(logits)  # log(1 - sigmoid(z)) = log sigmoid(z) - z: one stable log for both terms
    if pos_weight is not None:
        # 1 + (pos_weight - 1) y scales the positive term only. PyTorch multiplies in place, so the product
        # keeps the logits' dtype; the loss then takes the target's.
        log_sigmoid = (log_sigmoid * (1 + (pos_weight - 1) * target)).to(log_sigmoid.dtype)
    # In place in PyTorch, so each step is rounded to the target's dtype (which matters only when it
    # differs from the logits').
    loss = ((1 - target) * logits).to(target.dtype)
    return (loss - log_sigmoid).to(target.dtype)


class _BCEWithLogits(torch.autograd.Function):
    """Element-wise (1 - y) z - (1 + (pos_weight - 1) y) log sigmoid(z), with PyTorch's backward formulas.

    Plain autograd would give d/dy = -z - (pos_weight - 1) log sigmoid(z), which cancels
    catastrophically for very negative z; PyTorch's log sigmoid(-z) - pos_weight log sigmoid(z) does not.
    """

    @staticmethod
    def forward(ctx, input, target, pos_weight):
        ctx.save_for_backward(input, target, pos_weight)
        return _bce_with_logits(input, target, pos_weight)

    @staticmethod
    def backward(ctx, grad):
        input, target, pos_weight = ctx.saved_tensors
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            if pos_weight is None:
                grad_input = grad * (_sigmoid(input) - target)
            else:
                positive = pos_weight * target
                grad_input = grad * ((positive + 1 - target) * _sigmoid(input) - positive)
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                grad_target = -grad * input
            else:
                grad_target = grad * (_log_sigmoid(-input) - _log_sigmoid(input) * pos_weight)
        return grad_input, grad_target, None


def _check_same_shape(input, target, message):
    if target.shape != input.shape:
        problem = message.format(target=target.shape, input=input.shape).rstrip(".")
        raise ValueError(f"{problem}: give the target the input's shape, one label per element")


def _check_broadcasts_to(tensor, shape, name, exactly=True):
    """tensor must broadcast with shape; if `exactly`, without making it bigger (PyTorch multiplies in place)."""
    try:
        broadcast = torch.broadcast_shapes(tensor.shape, shape)
    except RuntimeError:
        broadcast = None
    if broadcast is None or (exactly and broadcast != shape):
        raise RuntimeError(
            f"{name} of shape {list(tensor.shape)} does not broadcast to the input's shape {list(shape)}: "
            f"give {name} the input's shape or one that broadcasts to it (e.g. one value per class)"
        )


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Same as torch.nn.functional.binary_cross_entropy: input holds probabilities in [0, 1]."""
    reduction = check_reduction(reduction)
    _check_same_shape(
        input,
        target,
        "Using a target size ({target}) that is different to the input size ({input}) is deprecated. "
        "Please ensure they have the same size.",
    )
    if weight is not None:
        _check_broadcasts_to(weight, input.shape, "weight", exactly=False)
    check_constant(weight, "weight", "binary_cross_entropy")
    if target.dtype != input.dtype:
        raise RuntimeError(
            f"Found dtype {target.dtype} but expected {input.dtype}: give the target the input's dtype "
            "(target.to(input.dtype))"
        )
    check_floating(input, "binary_cross_entropy's input")
    if not ((input >= 0) & (input <= 1)).all():
        raise RuntimeError(
            "all elements of input should be between 0 and 1: binary_cross_entropy takes probabilities; "
            "for raw scores (logits) use binary_cross_entropy_with_logits"
        )
    if not ((target >= 0) & (target <= 1)).all():
        raise RuntimeError(
            "all elements of target should be between 0 and 1: give (soft) labels in [0, 1], e.g. target.clamp(0, 1)"
        )
    losses = _ClampedBCE.apply(input, target)
    if weight is not None:
        _check_broadcasts_to(weight, input.shape, "weight")
        losses = (losses * weight).to(losses.dtype)  # in place in PyTorch: the loss keeps its dtype
    return reduce(losses, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Same as torch.nn.functional.binary_cross_entropy_with_logits: input holds logits."""
    reduction = check_reduction(reduction)
    _check_same_shape(input, target, "Target size ({target}) must be the same as input size ({input})")
    check_constant(weight, "weight", "binary_cross_entropy_with_logits")
    check_constant(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
    check_floating(input, "binary_cross_entropy_with_logits's input")
    if not target.is_floating_point():
        # A bool target: RuntimeError up to torch 2.13, NotImplementedError from 2.14 (docs/torch-versions.md).
        error = NotImplementedError if target.dtype == torch.bool and torch_at_least(2, 14) else RuntimeError
        raise error(
            f"target must be a floating-point tensor, got {target.dtype}: use target.float() "
            "(labels may be soft, anywhere in [0, 1])"
        )
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is not None:
            _check_broadcasts_to(extra, input.shape, name)
    losses = _BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        losses = (losses * weight).to(losses.dtype)  # in place in PyTorch: the loss keeps its dtype
    return reduce(losses, reduction)
