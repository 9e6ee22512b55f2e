"""Negative log-likelihood and cross-entropy, with PyTorch's exact semantics.

nll_loss picks -log_probs[target] (times the class weight) for every sample;
cross_entropy is nll_loss(log_softmax(logits)), optionally against label-smoothed or
probability targets. Shapes: input (C,), (N, C) or (N, C, d1, ..., dk); class-index
target (), (N,) or (N, d1, ..., dk); probability target: the same shape as input.

The checks run in PyTorch's order, so a call with several mistakes raises the same
exception type as PyTorch would.
"""

import math

import torch

from ._validation import check_constant, check_floating, check_reduction
from .softmax import log_softmax


def _class_dim(input):
    return 0 if input.dim() == 1 else 1


def _n_classes(input):
    if input.dim() == 0:
        raise IndexError(
            "Dimension specified as 1 but tensor has no dimensions: cross_entropy needs one score per class; "
            "give input the shape (C,), (N, C) or (N, C, d1, ...)"
        )
    return input.shape[_class_dim(input)]


def _k_dim_target_hint(input, target):
    """How to fix a target that does not fit a K-dimensional input (N, C, d1, ..., dk)."""
    if tuple(target.shape) == tuple(input.shape[:-1]):
        # The target fits the input with its classes last: the layout of a sequence model's (N, T, C)
        # output (or an image's (N, H, W, C)). The input is what needs changing, not the target.
        if input.dim() == 3:
            return (
                "cross_entropy reads the classes from dim 1, so if this is a sequence model's (N, T, C) output, "
                "permute the input to (N, C, T): use input.permute(0, 2, 1) (or flatten both, "
                "input.reshape(-1, C) and target.reshape(-1))"
            )
        return (
            "cross_entropy reads the classes from dim 1, so if the input has its classes last, move them to "
            "dim 1: use input.movedim(-1, 1)"
        )
    return "give the target the input's shape without its class dimension, dim 1"


def _check_index_target(input, target, weight):
    """Shape and dtype of a class-index target (and a weight requiring grad, checked in between by PyTorch)."""
    if input.dim() < 1:
        raise ValueError(
            f"Expected 1 or more dimensions (got {input.dim()}): give input one score per class, "
            "of shape (C,), (N, C) or (N, C, d1, ...)"
        )
    target_batch = target.shape[0] if target.dim() else 0  # PyTorch reads a 0-d target's batch size as 0
    if input.dim() != 1 and input.shape[0] != target_batch:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target_batch}): "
            "give one target class per sample"
        )
    expected = (input.shape[0], *input.shape[2:])
    if input.dim() > 2 and tuple(target.shape) != expected:
        raise RuntimeError(
            f"Expected target size {list(expected)}, got {list(target.shape)} for input of shape "
            f"{list(input.shape)}: {_k_dim_target_hint(input, target)}"
        )
    if input.dim() > 2 and input.dim() != 4 and input.numel() == 0 and target.numel():
        # PyTorch views such an input as (N, C, 0, 0) and the target as (N, 1, -1), which then disagree.
        raise RuntimeError(
            f"size mismatch (got input: {list(input.shape)}, target: {list(target.shape)}): "
            "the input has no classes; give it at least one class (C >= 1)"
        )
    check_constant(weight, "weight", "nll_loss")
    if input.dim() <= 2 and target.dim() > 1:
        hint = " (squeeze a target of shape (N, 1) with target.squeeze(1))" if target.shape[1:] == (1,) else ""
        raise RuntimeError(
            "0D or 1D target tensor expected, multi-target not supported: give one class index per sample, "
            f"a target of shape {'()' if input.dim() == 1 else '(N,)'}{hint}"
        )
    if target.dtype not in (torch.int64, torch.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype}: class-index targets "
            "must be integers (use target.long()); for class probabilities give a float target "
            "of the same shape as the input"
        )
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] != 1:
        raise ValueError(
            f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}: "
            "an unbatched input of C scores takes a single class index; for a batch give input the shape (N, C)"
        )
    if input.dim() == 2 and target.dim() == 0:  # only reachable for an empty batch, N = 0
        raise IndexError(
            "Dimension specified as 0 but tensor has no dimensions: give the target of an (N, C) input the shape (N,)"
        )


def _check_weight(weight, n_classes, need_1d):
    if weight is None:
        return
    if weight.numel() != n_classes or (need_1d and weight.dim() != 1):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes but got "
            f"weight tensor of shape: {list(weight.shape)}: pass a 1-D tensor with one weight per class"
        )


def _check_index_target_values(target, ignore_index, n_classes):
    target = target.long()  # nll_loss compares with ignore_index as int64, whatever the target's dtype
    out_of_range = (target != ignore_index) & ((target < 0) | (target >= n_classes))
    if out_of_range.any():
        bad = int(target[out_of_range].flatten()[0])
        raise IndexError(
            f"Target {bad} is out of bounds: give class indices in [0, {n_classes - 1}] for {n_classes} classes, "
            f"or ignore_index={ignore_index} to skip a sample"
        )


def _picked_losses(input, target, weight, ignore_index):
    """Per-sample -weight[t] * input[t] and the weight each sample carries (0 if ignored)."""
    class_dim = _class_dim(input)
    if input.dim() == 1:
        target = target.reshape(())  # an unbatched input takes a () or (1,) target
    ignored = target.long() == ignore_index
    if input.shape[class_dim] == 0:  # no classes: every sample is ignored, and there is nothing to gather
        losses = input.sum(class_dim)
        return losses, torch.zeros_like(losses)
    safe_target = torch.where(ignored, 0, target.long())  # any valid index; masked below
    picked = input.gather(class_dim, safe_target.unsqueeze(class_dim)).squeeze(class_dim)
    if weight is None:
        sample_weight = torch.ones_like(picked)
    else:
        sample_weight = weight.flatten().gather(0, safe_target.flatten()).view_as(picked)
    sample_weight = torch.where(ignored, 0, sample_weight)
    losses = torch.where(ignored, 0, -sample_weight * picked)
    return losses, sample_weight


def _weighted_reduce(losses, sample_weight, reduction):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / sample_weight.sum()  # 0 / 0 = nan when every sample is ignored


def _nll_loss(input, target, weight, ignore_index, reduction):
    _check_index_target(input, target, weight)
    n_classes = input.shape[_class_dim(input)]
    # nll_loss wants a 1-D weight; for inputs with extra dimensions PyTorch only counts its elements.
    _check_weight(weight, n_classes, need_1d=input.dim() <= 2)
    check_floating(input, "the input of nll_loss")
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(
            f"expected scalar type {input.dtype} but found {weight.dtype}: "
            "give weight the dtype of the input (weight.to(input.dtype))"
        )
    if input.dim() > 2 and target.dtype == torch.uint8 and (target.numel() or reduction == "none"):
        raise RuntimeError(
            "expected scalar type Long but found Byte: for inputs of shape (N, C, d1, ...) "
            "convert the target with target.long() (uint8 targets only work for (C,) and (N, C) inputs)"
        )
    _check_index_target_values(target, ignore_index, n_classes)
    losses, sample_weight = _picked_losses(input, target, weight, ignore_index)
    return _weighted_reduce(losses, sample_weight, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Same as torch.nn.functional.nll_loss: input holds log-probabilities."""
    reduction = check_reduction(reduction)
    return _nll_loss(input, target, weight, ignore_index, reduction)


def _check_label_smoothing(label_smoothing):
    if label_smoothing > 1.0:
        raise RuntimeError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}: pass a value in [0, 1], "
            "the share of the target mass spread uniformly over the classes"
        )


def _per_class(label_smoothing, n_classes):
    return label_smoothing / n_classes if n_classes else math.inf  # as PyTorch's float division by 0 classes


def _broadcast_over_classes(weight, input):
    """View a (C,) weight so it multiplies the class dimension of input."""
    shape = [1] * input.dim()
    shape[_class_dim(input)] = weight.shape[0]
    return weight.view(shape)


def _probability_target_loss(input, target, weight, ignore_index, reduction, label_smoothing):
    if not target.is_floating_point():
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {target.dtype}: "
            "a target with the input's shape is read as class probabilities; for class indices "
            "drop the class dimension"
        )
    if ignore_index >= 0:
        raise RuntimeError(
            "ignore_index is not supported for floating point target: with probability targets, "
            "give an ignored sample an all-zero target row instead"
        )
    n_classes = _n_classes(input)
    class_dim = _class_dim(input)
    _check_weight(weight, n_classes, need_1d=True)
    if input.numel():  # an empty integer input passes: PyTorch never looks at its dtype
        check_floating(input, "cross_entropy's input")
    log_probs = log_softmax(input, class_dim)
    if label_smoothing > 0:
        _check_label_smoothing(label_smoothing)
        target = target * (1 - label_smoothing) + _per_class(label_smoothing, n_classes)
    weighted = log_probs * target
    if weight is not None:
        weighted = weighted * _broadcast_over_classes(weight, input)
    if reduction == "none":
        return -weighted.sum(class_dim)
    if reduction == "sum":
        return -weighted.sum()
    if input.numel() == 0:
        return -weighted.sum() * torch.nan
    return -weighted.sum() / (input.numel() // n_classes)  # mean over samples, not over weights


def _smoothed_index_target_loss(input, target, weight, ignore_index, reduction, label_smoothing):
    class_dim = _class_dim(input)
    n_classes = input.shape[class_dim]
    log_probs = log_softmax(input, class_dim)
    nll = _nll_loss(log_probs, target, weight, ignore_index, reduction)
    # The uniform part: -sum_c w_c log p_c for every kept sample.
    if weight is not None:
        if weight.dim() == 0 or weight.shape[0] != n_classes:
            error = IndexError if weight.dim() == 0 else RuntimeError
            raise error(
                f"label smoothing needs the class weights along the first dimension, got weight of shape "
                f"{list(weight.shape)}: pass a 1-D tensor with one weight per class"
            )
        log_probs = log_probs * _broadcast_over_classes(weight, input)
    uniform = -log_probs.sum(class_dim)
    if input.dim() == 1 and target.dim() == 1:
        raise RuntimeError(
            "output with shape [] doesn't match the broadcast shape [1]: with label smoothing, give an "
            "unbatched (C,) input a 0-d target (target.squeeze(0)), or batch both"
        )
    # Unlike nll_loss, PyTorch compares with ignore_index in the target's own dtype here, so for a
    # uint8 target ignore_index=-100 (wrapped to 156) drops class 156 from this part only. Mirrored.
    ignored = target == ignore_index
    uniform = torch.where(ignored, 0, uniform)
    if reduction == "mean":
        kept = target[~ignored]
        if weight is None:
            total = kept.numel()
        elif kept.numel() and (weight.dim() != 1 or target.dtype == torch.uint8):  # torch's gather() checks
            raise RuntimeError(
                "gather(): Expected dtype int32/int64 for index and an index with the weight's number of "
                "dimensions: with label smoothing and reduction='mean', pass a 1-D weight and an int64 "
                "target (target.long())"
            )
        else:
            total = weight.gather(0, kept.flatten()).sum()
        uniform = uniform.sum() / total
    elif reduction == "sum":
        uniform = uniform.sum()
    return (1 - label_smoothing) * nll + uniform * _per_class(label_smoothing, n_classes)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Same as torch.nn.functional.cross_entropy: input holds raw logits (not probabilities)."""
    reduction = check_reduction(reduction)
    if input.shape == target.shape:
        return _probability_target_loss(input, target, weight, ignore_index, reduction, label_smoothing)
    if label_smoothing > 0.0:
        _check_label_smoothing(label_smoothing)
    _n_classes(input)
    if input.numel():  # (an empty integer input gets as far as nll_loss's checks)
        check_floating(input, "cross_entropy's input")
    if label_smoothing > 0.0:
        return _smoothed_index_target_loss(input, target, weight, ignore_index, reduction, label_smoothing)
    return _nll_loss(log_softmax(input, _class_dim(input)), target, weight, ignore_index, reduction)
