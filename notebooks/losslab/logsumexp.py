"""Log-sum-exp, numerically stable, from elementary tensor ops (notebook 03).

    log sum_j exp(z_j) = m + log sum_j exp(z_j - m),   m = max_j z_j.

Every exp(z_j - m) is at most 1, so nothing overflows, and the largest term is exactly 1, so the
sum is at least 1 and its log is never -inf. A slice of all -inf needs care: there m = -inf and
z - m would be -inf - (-inf) = nan, so we shift by 0 instead and get log 0 = -inf, as PyTorch does
(likewise when m = +inf: the result is +inf whatever the shift).

The gradient is softmax: d logsumexp(z) / dz_j = exp(z_j - logsumexp(z)). We compute it with that
formula, PyTorch's own, rather than by differentiating the shifted sum: the two agree in exact
arithmetic but not always in floating point (e.g. for tied maxima of 1e30, where the result rounds
to the maximum and PyTorch's gradient is 1 for each).
"""

import operator

import torch

from ._validation import normalise_dim


def _type_name(value):
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _as_index(value, what):
    """An int from an int-like value (int, numpy integer, 0-d integer tensor); bools are refused, as in PyTorch."""
    is_tensor = isinstance(value, torch.Tensor)
    if isinstance(value, bool) or (is_tensor and (value.dim() != 0 or value.is_floating_point())):
        raise TypeError(what)
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(what) from None


def _dims(dim):
    """`dim` as a tuple of ints: one int, or a tuple or list of them."""
    hint = "pass an int (e.g. dim=1) or a tuple of ints (e.g. dim=(0, 2)), the dimension(s) to reduce"
    if isinstance(dim, (tuple, list)):
        for position, element in enumerate(dim):
            message = (
                f"logsumexp(): argument 'dim' (position 2) must be tuple of ints, but found element of type "
                f"{_type_name(element)} at pos {position}: {hint}"
            )
            _as_index(element, message)
        return tuple(operator.index(element) for element in dim)
    message = f"logsumexp(): argument 'dim' (position 2) must be tuple of ints, not {_type_name(dim)}: {hint}"
    return (_as_index(dim, message),)


def _check_arguments(input, dim, keepdim):
    """Input, dim and keepdim checked in PyTorch's order; the dims to reduce, normalised to 0..ndim-1."""
    if not isinstance(input, torch.Tensor):
        raise TypeError(
            f"logsumexp(): argument 'input' (position 1) must be Tensor, not {_type_name(input)}: "
            "convert it with torch.tensor(...)"
        )
    dims = _dims(dim)
    if not isinstance(keepdim, bool):
        raise TypeError(
            f"logsumexp(): argument 'keepdim' (position 3) must be bool, not {_type_name(keepdim)}: "
            "pass keepdim=True or keepdim=False"
        )
    dims = tuple(normalise_dim(d, input.dim()) for d in dims)
    seen = set()
    for d in dims:
        if d in seen:
            raise RuntimeError(
                f"dim {d} appears multiple times in the list of dims: give each dimension to reduce only once"
            )
        seen.add(d)
    if not dims and not keepdim and input.dim() > 0 and input.numel():
        # PyTorch reads dim=() as "every dimension" and then fails to drop them (its shift keeps shape [1, ...]).
        raise RuntimeError(
            f"output with shape [] doesn't match the broadcast shape {[1] * input.dim()}: logsumexp with dim=() "
            "fails in PyTorch unless keepdim=True; to reduce over every dimension pass them all, "
            f"dim={tuple(range(input.dim()))}"
        )
    return dims


def shifted_logsumexp(input, dims, keepdim):
    """The stable formula over the tuple `dims`: m + log sum exp(input - m), m the maximum (0 where infinite)."""
    real = input.real if input.is_complex() else input  # complex inputs: shift by the maximum real part
    shift = real.amax(dim=dims, keepdim=True)  # m, keeping the reduced dims so that it broadcasts
    shift = torch.where(shift.isinf(), 0.0, shift)  # never shift by an infinity: -inf - (-inf) is nan
    total = (input - shift).exp().sum(dim=dims, keepdim=keepdim)  # every term <= 1 (in real part)
    if not keepdim and dims:
        shift = shift.squeeze(dims)
    return total.log() + shift


class _LogSumExp(torch.autograd.Function):
    """The stable forward pass, and PyTorch's backward formula: grad * exp(input - result)."""

    @staticmethod
    def forward(ctx, input, dims, keepdim):
        result = shifted_logsumexp(input, dims, keepdim)
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(input, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        input, result = ctx.saved_tensors
        if not ctx.keepdim:
            for d in sorted(ctx.dims):  # give back the reduced dimensions, so both broadcast against input
                grad, result = grad.unsqueeze(d), result.unsqueeze(d)
        return grad * (input - result).exp().conj(), None, None


def logsumexp(input, dim, keepdim=False):
    """Same as torch.logsumexp(input, dim, keepdim): log(exp(input).sum(dim, keepdim)), without overflow.

    `dim` is an int or a tuple/list of ints (an empty one means every dimension and, as in PyTorch, then
    needs keepdim=True unless the input is 0-d). Integer
    and bool inputs are computed in the default float dtype; complex inputs are shifted by the maximum of
    their real part. A slice of all -inf gives -inf (not nan), one holding +inf gives +inf, and reducing
    over a dimension of size 0 gives -inf (the log of an empty sum).
    """
    dims = _check_arguments(input, dim, keepdim)
    if not (input.is_floating_point() or input.is_complex()):
        input = input.to(torch.get_default_dtype())
    if not dims:
        dims = tuple(range(input.dim()))  # reduce over everything (nothing, for a 0-d tensor)
    if input.numel() == 0:
        return input.exp().sum(dim=dims, keepdim=keepdim).log()  # an empty sum is 0, its log -inf
    return _LogSumExp.apply(input, dims, keepdim)
