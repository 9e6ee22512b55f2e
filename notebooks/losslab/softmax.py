"""Softmax and log-softmax, numerically stable, from elementary tensor ops.

softmax(z)_i = exp(z_i) / sum_j exp(z_j). Shifting every logit by the row maximum
m changes nothing mathematically but keeps exp() from overflowing:
log sum_j exp(z_j) = m + log sum_j exp(z_j - m).
"""

import warnings

from ._validation import check_floating, normalise_dim


def _resolve_dim(input, dim, name):
    if dim is None:
        # PyTorch's legacy rule for an implicit dim, kept for parity.
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
        dim = 0 if input.dim() in (0, 1, 3) else 1
    return normalise_dim(dim, input.dim())


def _prepare(input, dim, dtype, name):
    """PyTorch's handling of the arguments: cast to `dtype` if given, resolve `dim` (and its legacy default),
    and refuse an input that is not floating point, with PyTorch's error."""
    if dtype is not None:
        input = input.to(dtype)
    dim = _resolve_dim(input, dim, name)
    if input.numel():  # PyTorch never looks at the dtype of an empty input
        check_floating(input, f"{name}'s input")
    return input, dim


def softmax(input, dim=None, dtype=None):
    """Same as torch.nn.functional.softmax(input, dim, dtype=dtype)."""
    input, dim = _prepare(input, dim, dtype, "softmax")
    if input.numel() == 0:
        return input.clone()
    # Subtract the maximum along dim: every exponent is <= 0, so exp() cannot overflow. The maximum is a
    # constant shift (the result does not depend on it), so no gradient flows through it.
    shifted = input - input.amax(dim=dim, keepdim=True).detach()
    exps = shifted.exp()
    return exps / exps.sum(dim=dim, keepdim=True)


def log_softmax(input, dim=None, dtype=None):
    """Same as torch.nn.functional.log_softmax(input, dim, dtype=dtype): z - logsumexp(z)."""
    input, dim = _prepare(input, dim, dtype, "log_softmax")
    if input.numel() == 0:
        return input.clone()
    shifted = input - input.amax(dim=dim, keepdim=True).detach()  # as in softmax: every entry <= 0
    # log p = z - m - log sum_j exp(z_j - m). For finite logits the sum is at least 1 (its largest term is
    # exp(0)), so its log is finite: no probability is rounded to 0 before a log is taken.
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
