"""Cross-entropy at a language model's vocabulary size, as notebook 09 builds it.

The logits of N tokens over a vocabulary of V classes are an (N, V) tensor: 8 x 4096 tokens x 256k classes
in float32 is 33.6 GB, more than anything else in a training step. Nothing in the loss needs them all at
once. Over chunks of the vocabulary, a running maximum m and a rescaled running sum s give the
log-sum-exp online:

    m' = max(m, max_c z_c),   s' = s exp(m - m') + sum_c exp(z_c - m'),   logsumexp(z) = m + log s,

so the forward pass keeps two numbers per row (and the target's logit), and the backward pass recomputes
the softmax chunk by chunk from them.

    online_logsumexp(logits, chunk_size)        (*, C) -> (*,): torch.logsumexp(logits, -1), chunk by chunk
    chunked_cross_entropy(logits, target, ...)  F.cross_entropy for (N, C) logits and class indices, through
                                                ChunkedCrossEntropy: saves per-row numbers, not probabilities
    linear_cross_entropy(input, linear_weight, target, *, linear_bias, weight, reduction, ignore_index,
                         label_smoothing, chunk_size)
                                                torch's F.linear_cross_entropy, fused: the logits
                                                input @ linear_weight.T + linear_bias are made chunk by chunk
                                                over the vocabulary and never held whole
    logits_bytes(n_tokens, vocab_size, ...)     the memory arithmetic the explorer and the lesson show

`linear_cross_entropy` computes its gradients during the forward pass when it can (a scalar reduction
and an input that needs them): the loss is the last operation of a step, so its backward pass only has
to scale them by the incoming gradient. That costs one extra pass of logits (for the log-sum-exp, before
any probability is known) instead of recomputing the logits in the backward pass: both make the logits
twice, naive cross-entropy once (notebook 09 measures what that costs).
"""

import importlib
import math
import numbers

import torch

from ._validation import check_reduction

DEFAULT_CHUNK_SIZE = 4096
# The module, for its checks (the package's own name `cross_entropy` is the function).
_ce = importlib.import_module(f"{__package__}.cross_entropy")
BYTES_PER_ELEMENT = {torch.float64: 8, torch.float32: 4, torch.bfloat16: 2, torch.float16: 2}


# ---------------------------------------------------------------------------------- log-sum-exp online


def _check_chunk_size(chunk_size):
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(
            f"chunk_size must be an int, got {type(chunk_size).__name__}: pass the number of classes per chunk, "
            "e.g. chunk_size=4096"
        )
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}: pass a positive number of classes")
    return int(chunk_size)


def chunk_bounds(num_classes, chunk_size):
    """[(start, stop), ...]: the classes 0..C-1 cut into chunks of chunk_size (the last may be shorter)."""
    chunk_size = _check_chunk_size(chunk_size)
    return [(start, min(start + chunk_size, num_classes)) for start in range(0, num_classes, chunk_size)]


def _safe(shift):
    """Never shift by an infinity: -inf - (-inf) is nan (as in losslab.logsumexp)."""
    return torch.where(shift.isinf(), 0.0, shift)


def online_update(running_max, running_sum, chunk):
    """One step of the online log-sum-exp: the running maximum and the rescaled running sum (*,) after one more
    chunk of logits (*, k). The sum is that of exp(z - m) over every class seen so far."""
    new_max = torch.maximum(running_max, chunk.amax(dim=-1))
    shift = _safe(new_max)
    factor = torch.exp(running_max - shift)  # exp(m - m'): the old terms, now relative to the new maximum
    rescaled = torch.where(running_sum == 0, 0.0, running_sum * factor)  # (nothing seen yet: 0, never 0 * inf)
    return new_max, rescaled + torch.exp(chunk - shift.unsqueeze(-1)).sum(dim=-1)


def _online_statistics(chunks):
    """The running maximum m and sum s over an iterable of logit chunks (*, k): logsumexp = m + log s."""
    running_max = running_sum = None
    for chunk in chunks:
        if running_max is None:
            running_max = torch.full(chunk.shape[:-1], -math.inf, dtype=chunk.dtype)
            running_sum = torch.zeros(chunk.shape[:-1], dtype=chunk.dtype)
        running_max, running_sum = online_update(running_max, running_sum, chunk)
    return _safe(running_max), running_sum


def online_logsumexp(logits, chunk_size=DEFAULT_CHUNK_SIZE):
    """torch.logsumexp(logits, dim=-1) over the last dimension, computed chunk_size classes at a time with a
    running maximum and a rescaled running sum: (*, C) floats -> (*,)."""
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point() or logits.dim() == 0:
        raise TypeError(
            "logits must be a floating-point tensor with the classes in its last dimension: "
            "convert it with torch.as_tensor(logits, dtype=torch.float64)"
        )
    if logits.shape[-1] == 0:
        return torch.full(logits.shape[:-1], -math.inf, dtype=logits.dtype)  # the log of an empty sum
    shift, total = _online_statistics(
        logits[..., start:stop] for start, stop in chunk_bounds(logits.shape[-1], chunk_size)
    )
    return shift + total.log()


# ---------------------------------------------------------------------- the loss from per-row statistics


class _Rows:
    """What the loss keeps of each row: the shift m and log s of its log-sum-exp, its target's logit,
    and the weights and coefficients the gradient needs. Never a (N, C) tensor."""

    def __init__(self, target, class_weight, ignore_index, num_classes, label_smoothing, dtype):
        self.kept = target != ignore_index  # (N,) bool
        self.target = torch.where(self.kept, target, 0)  # (N,): any valid class where ignored
        self.num_classes = num_classes
        self.alpha = label_smoothing
        if class_weight is None:
            self.class_weight = None
            self.target_weight = self.kept.to(dtype)  # w_y, 0 where ignored
            self.weight_sum = float(num_classes)
        else:
            self.class_weight = class_weight
            self.target_weight = torch.where(self.kept, class_weight[self.target], 0)
            self.weight_sum = class_weight.sum()

    def classes_in(self, start, stop):
        """(rows, columns): the rows whose target lies in [start, stop), and its column in the chunk."""
        inside = self.kept & (self.target >= start) & (self.target < stop)
        rows = inside.nonzero().squeeze(1)
        return rows, self.target[rows] - start

    def pick_targets(self, logit_chunks):
        """The target logit z_y of each row (N,), picked chunk by chunk."""
        target_logit = None
        for (start, stop), chunk in logit_chunks:
            if target_logit is None:
                target_logit = torch.zeros(chunk.shape[0], dtype=chunk.dtype)
            rows, columns = self.classes_in(start, stop)
            target_logit[rows] = chunk[rows, columns]
        return target_logit

    def losses(self, shift, log_sum, target_logit, uniform):
        """Per-row parts (N,), 0 where ignored: w_y (-log p_y), and sum_c w_c (-log p_c) (None without smoothing).
        The loss of a row is (1 - alpha) times the first plus alpha / C times the second."""
        nll = torch.where(self.kept, self.target_weight * ((shift - target_logit) + log_sum), 0)  # -log p_y = lse - z_y
        return nll, None if uniform is None else torch.where(self.kept, uniform, 0)

    def uniform_part(self, shift, log_sum, logit_chunks):
        """sum_c w_c (-log p_c) per row (N,), as sum_c w_c (m - z_c) + sum_c w_c log s: no large terms cancel."""
        total = None
        for (start, stop), chunk in logit_chunks:
            below = shift.unsqueeze(1) - chunk  # (N, k): m - z_c >= 0
            if self.class_weight is not None:
                below = below * self.class_weight[start:stop]
            part = below.sum(dim=1)
            total = part if total is None else total + part
        return total + self.weight_sum * log_sum

    def reduce(self, parts, reduction):
        """The loss from the per-row parts, each part reduced on its own as PyTorch does (so that a mean over a
        total weight of 0 gives nan, not inf)."""
        nll, uniform = parts
        if reduction == "none":
            reduced = nll, uniform
        elif reduction == "sum":
            reduced = nll.sum(), None if uniform is None else uniform.sum()
        else:
            total = self.target_weight.sum()  # 0 / 0 = nan when every row is ignored
            reduced = nll.sum() / total, None if uniform is None else uniform.sum() / total
        if uniform is None:
            return reduced[0]
        return (1 - self.alpha) * reduced[0] + reduced[1] * (self.alpha / self.num_classes)

    def row_scale(self, grad_output, reduction):
        """g_n (N,): how much each row's loss counts in the output, times grad_output."""
        if reduction == "mean":
            grad_output = grad_output / self.target_weight.sum()
        return torch.where(self.kept, grad_output, 0)  # an ignored row gets 0, even when the mean is 0 / 0

    def logit_gradient(self, chunk, start, stop, shift, log_sum, scale):
        """d loss / d z for one chunk (N, k), from its logits (overwritten: they are not needed again):
        g_n [((1 - alpha) w_y + alpha W / C) p_c - (1 - alpha) w_y [c = y] - alpha w_c / C], W = sum_c w_c."""
        alpha, num_classes = self.alpha, self.num_classes
        probs = chunk.sub_(shift.unsqueeze(1)).sub_(log_sum.unsqueeze(1)).exp_()  # (N, k): exp((z - m) - log s)
        target_coef = scale * self.target_weight * (1 - alpha)  # (N,)
        coef = target_coef + scale * (alpha * self.weight_sum / num_classes) if alpha > 0 else target_coef
        grad = probs.mul_(coef.unsqueeze(1))
        if alpha > 0:
            uniform = (scale * (alpha / num_classes)).unsqueeze(1)  # (N, 1)
            weights = 1.0 if self.class_weight is None else self.class_weight[start:stop]
            grad.sub_(uniform * weights)
        rows, columns = self.classes_in(start, stop)
        grad[rows, columns] -= target_coef[rows]
        return grad


# ------------------------------------------------------------------ cross-entropy on given logits, chunked


class ChunkedCrossEntropy(torch.autograd.Function):
    """Cross-entropy of (N, C) logits against class indices, over chunks of the classes. The forward pass
    saves the logits it was given and, per row, the shift and log-sum of the log-sum-exp: no probabilities.
    The backward pass recomputes the softmax chunk by chunk. apply(logits, target, weight, ignore_index,
    reduction, label_smoothing, chunk_size)."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, reduction, label_smoothing, chunk_size):
        bounds = chunk_bounds(logits.shape[1], chunk_size)
        rows = _Rows(target, weight, ignore_index, logits.shape[1], label_smoothing, logits.dtype)

        def chunks():
            return (((start, stop), logits[:, start:stop]) for start, stop in bounds)

        shift, total = _online_statistics(chunk for _, chunk in chunks())
        log_sum = total.log()
        target_logit = rows.pick_targets(chunks())
        uniform = rows.uniform_part(shift, log_sum, chunks()) if label_smoothing > 0 else None
        ctx.save_for_backward(logits, shift, log_sum)
        ctx.rows, ctx.bounds, ctx.reduction = rows, bounds, reduction
        return rows.reduce(rows.losses(shift, log_sum, target_logit, uniform), reduction)

    @staticmethod
    def backward(ctx, grad_output):
        logits, shift, log_sum = ctx.saved_tensors
        scale = ctx.rows.row_scale(grad_output, ctx.reduction)
        grad = torch.empty_like(logits)
        for start, stop in ctx.bounds:
            chunk = logits[:, start:stop].clone()
            grad[:, start:stop] = ctx.rows.logit_gradient(chunk, start, stop, shift, log_sum, scale)
        return grad, None, None, None, None, None, None


def _check_index_call(logits_like, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy's own checks, in PyTorch's order, for logits of the shape and dtype of `logits_like` (a
    tensor on the meta device: only its shape and dtype are read, nothing is computed)."""
    if label_smoothing > 0.0:
        _ce._check_label_smoothing(label_smoothing)
    _ce._check_index_target(logits_like, target, weight)
    _ce._check_weight(weight, logits_like.shape[-1], need_1d=True)
    _ce.check_floating(logits_like, "cross_entropy's input")
    if weight is not None and weight.dtype != logits_like.dtype:
        raise RuntimeError(
            f"expected scalar type {logits_like.dtype} but found {weight.dtype}: "
            "give weight the dtype of the input (weight.to(input.dtype))"
        )
    _ce._check_index_target_values(target, ignore_index, logits_like.shape[-1])


def chunked_cross_entropy(
    input,
    target,
    weight=None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
    chunk_size=DEFAULT_CHUNK_SIZE,
):
    """F.cross_entropy(input, target, ...) for (N, C) logits `input` and int64 class indices (N,), computed over
    chunks of chunk_size classes by ChunkedCrossEntropy. Anything else goes to losslab.cross_entropy."""
    reduction = check_reduction(reduction)
    chunk_size = _check_chunk_size(chunk_size)
    simple = isinstance(input, torch.Tensor) and isinstance(target, torch.Tensor) and input.dim() == 2
    if not simple or input.shape == target.shape or target.dtype != torch.int64 or 0 in input.shape:
        return _ce.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
    _check_index_call(input, target, weight, ignore_index, reduction, label_smoothing)
    alpha = max(float(label_smoothing), 0.0)
    return ChunkedCrossEntropy.apply(input, target, weight, ignore_index, reduction, alpha, chunk_size)


# ------------------------------------------------------------------------ the fused linear cross-entropy


def _logits_chunk(hidden, linear_weight, linear_bias, start, stop):
    """hidden @ linear_weight[start:stop].T + linear_bias[start:stop]: (N, k), one chunk of the logits."""
    if linear_bias is None:
        return hidden @ linear_weight[start:stop].T
    return torch.addmm(linear_bias[start:stop], hidden, linear_weight[start:stop].T)


def _fused_statistics(hidden, linear_weight, linear_bias, rows, bounds):
    """First pass over the vocabulary: shift, log-sum and target logit per row (N,)."""
    running_max = torch.full((hidden.shape[0],), -math.inf, dtype=hidden.dtype)
    running_sum = torch.zeros(hidden.shape[0], dtype=hidden.dtype)
    target_logit = torch.zeros(hidden.shape[0], dtype=hidden.dtype)
    for start, stop in bounds:
        chunk = _logits_chunk(hidden, linear_weight, linear_bias, start, stop)
        running_max, running_sum = online_update(running_max, running_sum, chunk)
        chosen, columns = rows.classes_in(start, stop)
        target_logit[chosen] = chunk[chosen, columns]
    return _safe(running_max), running_sum.log(), target_logit


def _fused_gradients(hidden, linear_weight, linear_bias, rows, bounds, shift, log_sum, scale, needs, uniform=False):
    """Second pass: the gradients with respect to hidden, linear_weight and linear_bias (None where not needed),
    each chunk's logits recomputed and turned into d loss / d z in place; with `uniform`, also the uniform
    part of label smoothing per row (it needs the final shift)."""
    grad_hidden = torch.zeros_like(hidden) if needs[0] else None
    grad_weight = torch.empty_like(linear_weight) if needs[1] else None
    grad_bias = torch.empty_like(linear_bias) if linear_bias is not None and needs[2] else None
    uniform_total = torch.zeros_like(shift) if uniform else None
    for start, stop in bounds:
        chunk = _logits_chunk(hidden, linear_weight, linear_bias, start, stop)
        if uniform:
            below = shift.unsqueeze(1) - chunk
            if rows.class_weight is not None:
                below = below * rows.class_weight[start:stop]
            uniform_total += below.sum(dim=1)
        if not any(needs):
            continue
        grad = rows.logit_gradient(chunk, start, stop, shift, log_sum, scale)  # (N, k)
        if grad_hidden is not None:
            grad_hidden.addmm_(grad, linear_weight[start:stop])
        if grad_weight is not None:
            torch.mm(grad.T, hidden, out=grad_weight[start:stop])
        if grad_bias is not None:
            grad_bias[start:stop] = grad.sum(dim=0)
    if uniform:
        uniform_total += rows.weight_sum * log_sum
    return (grad_hidden, grad_weight, grad_bias), uniform_total


class LinearCrossEntropy(torch.autograd.Function):
    """The fused loss: cross-entropy of hidden @ linear_weight.T + linear_bias, the logits made chunk by chunk
    over the vocabulary. With a scalar reduction and a gradient to compute, the gradients are computed in the
    forward pass and kept (the sizes of hidden, linear_weight and linear_bias); backward scales them by
    grad_output. With reduction='none' the forward keeps per-row numbers and the backward recomputes."""

    @staticmethod
    def forward(ctx, hidden, linear_weight, linear_bias, target, weight, ignore_index, reduction, alpha, chunk_size):
        bounds = chunk_bounds(linear_weight.shape[0], chunk_size)
        rows = _Rows(target, weight, ignore_index, linear_weight.shape[0], alpha, hidden.dtype)
        shift, log_sum, target_logit = _fused_statistics(hidden, linear_weight, linear_bias, rows, bounds)
        needs = ctx.needs_input_grad[:3]
        precompute = reduction != "none" and any(needs)
        scale = rows.row_scale(torch.ones((), dtype=hidden.dtype), reduction) if precompute else None
        grads, uniform = (None, None, None), None
        if precompute or alpha > 0:  # a second pass over the vocabulary, now that the shift is known
            grads, uniform = _fused_gradients(
                hidden, linear_weight, linear_bias, rows, bounds, shift, log_sum, scale,
                needs if precompute else (False, False, False), uniform=alpha > 0,
            )  # fmt: skip
        losses = rows.losses(shift, log_sum, target_logit, uniform)
        ctx.precomputed = grads if precompute else None
        ctx.save_for_backward(hidden, linear_weight, linear_bias, shift, log_sum)  # references, no copies
        ctx.rows, ctx.bounds, ctx.reduction = rows, bounds, reduction
        return rows.reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.precomputed is not None:
            # Scaled in place and handed over: no second copy of a weight-sized gradient. A second backward
            # pass (retain_graph=True) finds them gone and recomputes.
            grads = tuple(None if grad is None else grad.mul_(grad_output) for grad in ctx.precomputed)
            ctx.precomputed = None
        else:
            hidden, linear_weight, linear_bias, shift, log_sum = ctx.saved_tensors
            scale = ctx.rows.row_scale(grad_output, ctx.reduction)
            grads, _ = _fused_gradients(
                hidden, linear_weight, linear_bias, ctx.rows, ctx.bounds, shift, log_sum, scale,
                ctx.needs_input_grad[:3],
            )  # fmt: skip
        return (*grads, None, None, None, None, None, None)


def _check_linear_arguments(input, linear_weight, linear_bias, target, ignore_index):
    """F.linear_cross_entropy's own checks, with its messages and a hint; returns the logits' shape."""
    for name, value in (("input", input), ("linear_weight", linear_weight), ("target", target)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a Tensor, not {type(value).__name__}: convert it with torch.as_tensor")
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(
            f"expected input with dimensionality 1 or 2, got {input.dim()}: give the hidden states as (N, d) "
            "(flatten a (B, T, d) batch with input.reshape(-1, d)) or one of them as (d,)"
        )
    if linear_weight.dim() < 2:
        raise RuntimeError(
            f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}: "
            "pass the output layer's weight, of shape (V, d)"
        )
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {in_features} and {linear_weight.shape[-1]}, respectively: give linear_weight the shape (V, d) "
            "(an nn.Linear(d, V) holds it as .weight)"
        )
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(
            f"expected linear_bias shape {(num_classes, *out_features)}, got {tuple(linear_bias.shape)}: "
            "pass one bias per class"
        )
    if out_features and input.dim() == 1:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires batched "
            f"input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}: use input.unsqueeze(0)"
        )
    logits_shape = (*input.shape[:-1], num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError(
            "ignore_index cannot be specified when target contains probabilities: drop ignore_index, "
            "or give an ignored row an all-zero target"
        )
    for name, tensor in (("linear_weight", linear_weight), ("linear_bias", linear_bias)):
        if tensor is not None and tensor.dtype != input.dtype:
            raise RuntimeError(
                f"expected {name} to have the dtype of input, but got {tensor.dtype} != {input.dtype}: "
                f"convert it with {name}.to(input.dtype)"
            )
    if not input.is_floating_point():
        raise RuntimeError(
            f"linear_cross_entropy is not implemented for {input.dtype} inputs: hidden states and weights are "
            "real numbers, convert them with .float()"
        )
    return logits_shape


def _reference(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, label_smoothing):
    """torch's reference path: the logits in full, then losslab.cross_entropy."""
    num_classes, out_features = linear_weight.shape[0], linear_weight.shape[1:-1]
    flat_weight = linear_weight.reshape(math.prod(out_features, start=num_classes), input.shape[-1])
    logits = input @ flat_weight.T
    if linear_bias is not None:
        logits = logits + linear_bias.reshape(-1)
    logits = logits.reshape(*input.shape[:-1], num_classes, *out_features)
    return _ce.cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing)


def linear_cross_entropy(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction="mean",
    ignore_index=None,
    label_smoothing=0.0,
    chunk_size=DEFAULT_CHUNK_SIZE,
):
    """Same as torch.nn.functional.linear_cross_entropy (without `options`): the cross-entropy of the logits
    input @ linear_weight.T + linear_bias, for hidden states `input` (N, d) or (d,) and an output layer
    `linear_weight` (V, d). With int64 class indices, the logits are computed chunk_size classes at a time
    (LinearCrossEntropy) and never held whole; probability targets, uint8 targets and K-dimensional weights
    take the reference path (the full logits, then cross_entropy), as they need the full logits anyway."""
    chunk_size = _check_chunk_size(chunk_size)
    logits_shape = _check_linear_arguments(input, linear_weight, linear_bias, target, ignore_index)
    probabilities = tuple(target.shape) == logits_shape
    ignore_index = -100 if ignore_index is None else ignore_index
    if probabilities or target.dtype != torch.int64 or linear_weight.dim() > 2 or 0 in logits_shape:
        return _reference(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, label_smoothing)
    reduction = check_reduction(reduction)
    logits_like = torch.empty(logits_shape, dtype=input.dtype, device="meta")
    _check_index_call(logits_like, target, weight, ignore_index, reduction, label_smoothing)
    alpha = max(float(label_smoothing), 0.0)
    unbatched = input.dim() == 1
    if unbatched:
        if alpha > 0 and target.dim() == 1:
            raise RuntimeError(
                "output with shape [] doesn't match the broadcast shape [1]: with label smoothing, give an "
                "unbatched (C,) input a 0-d target (target.squeeze(0)), or batch both"
            )
        input, target = input.unsqueeze(0), target.reshape(1)
    losses = LinearCrossEntropy.apply(
        input, linear_weight, linear_bias, target, weight, ignore_index, reduction, alpha, chunk_size
    )
    return losses.reshape(()) if unbatched and reduction == "none" else losses


# ------------------------------------------------------------------------------------ memory arithmetic


def logits_bytes(n_tokens, vocab_size, dtype=torch.float32):
    """The bytes of an (n_tokens, vocab_size) tensor of `dtype`: what the full logits take."""
    return int(n_tokens) * int(vocab_size) * BYTES_PER_ELEMENT[dtype]


def kept_for_backward_bytes(n_tokens, hidden_size, vocab_size, dtype=torch.float32, precomputed=True):
    """What the fused loss keeps between its forward and backward passes: the gradients with respect to the
    hidden states (N, d) and the weight (V, d) when precomputed, else two numbers per row (the hidden states
    and the weight, which the model holds anyway, are not counted)."""
    size = BYTES_PER_ELEMENT[dtype]
    if precomputed:
        return (int(n_tokens) * int(hidden_size) + int(vocab_size) * int(hidden_size)) * size
    return 2 * int(n_tokens) * size


def format_bytes(n_bytes):
    """Bytes in the largest unit (B, kB, MB, GB: powers of 1000) that keeps the number >= 1, 1 decimal."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{int(n_bytes)} B"
