"""Argument checks shared by the losses.

Each check raises the same exception type as PyTorch for the same mistake, with a
message that says what is wrong and how to fix it.
"""

import warnings

import torch

REDUCTIONS = ("none", "mean", "sum")


def torch_at_least(major, minor):
    """True if the installed torch is release major.minor or later. Where torch's behaviour changed between
    the releases the course is verified on, losslab follows the installed one: docs/torch-versions.md lists
    every such case."""
    return tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (major, minor)


def check_reduction(reduction):
    """Return the reduction to apply. Like PyTorch, accept the deprecated 'elementwise_mean' with a warning."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{reduction} is not a valid value for reduction: use 'mean' (average over samples), "
            "'sum' or 'none' (one loss per sample)"
        )
    return reduction


def check_floating(tensor, what):
    if not tensor.is_floating_point():
        raise NotImplementedError(
            f"{what} must be a floating-point tensor, got {tensor.dtype}: "
            "convert it with .float() (logits and probabilities are real numbers)"
        )


def check_constant(tensor, name, function):
    """PyTorch refuses (in grad mode) a weight that requires grad: these losses don't differentiate it."""
    if tensor is not None and tensor.requires_grad and torch.is_grad_enabled():
        raise RuntimeError(
            f"The function '{function}' is not differentiable with respect to argument '{name}': "
            f"pass {name}.detach() (weights are constants here)"
        )


def normalise_dim(dim, ndim):
    """Turn a possibly negative `dim` into an index, as PyTorch does (a 0-d tensor has dim 0)."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim}): "
            f"the tensor has {ndim} dimension(s), so pass a dim in that range"
        )
    return dim % rank


def reduce(losses, reduction):
    """Apply 'none' / 'sum' / 'mean' (mean over elements) to per-element losses."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / losses.numel() if losses.numel() else losses.sum() * torch.nan
