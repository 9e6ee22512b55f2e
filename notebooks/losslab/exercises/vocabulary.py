"""Self-checks for notebook 09 (cross-entropy at vocabulary scale).

    check_perplexity(perplexity)          perplexity(logits (N, V), target (N,), ignore_index) -> exp(mean CE) ()
    check_chunked_logsumexp(chunked_logsumexp)
                                          chunked_logsumexp(logits (N, V), chunk_size) -> (N,), online over chunks
    check_chunk_gradient(chunk_gradient)  chunk_gradient(chunk (N, k), start, lse (N,), target (N,)) -> (N, k):
                                          d mean CE / d logits for the classes start .. start + k - 1
    check_merge(merge)                    merge(max_a, sum_a, max_b, sum_b) -> (N,): the log-sum-exp of the whole
                                          rows from two partial online ones (e.g. two halves of the vocabulary)

Each runs the learner's function on fixed inputs, compares with PyTorch, and names the typical mistakes.
"""

import torch
import torch.nn.functional as F

from ._checking import Wrong, answer_name, call_answer, close, fmt, raise_first_match, self_check

_generator = torch.Generator().manual_seed(9)
LOGITS = torch.randn(6, 10, generator=_generator, dtype=torch.float64) * 3  # (N, V) = (6, 10)
TARGET = torch.tensor([3, 0, 9, 7, -100, 3])  # one padding token (ignore_index = -100)
LARGE_LOGITS = LOGITS * 300  # up to about 2000: exp() overflows without the running maximum
MERGE_LOGITS = LOGITS + 1000  # beyond exp()'s range (709.8) too, with many terms that count in each sum
TOLERANCE = 1e-9  # float64 throughout


# --------------------------------------------------------------------------- exercise 1: perplexity


@self_check
def check_perplexity(perplexity):
    """perplexity(logits, target, ignore_index) -> exp of the mean cross-entropy over the tokens kept."""
    name = answer_name(perplexity)
    result = call_answer(perplexity, LOGITS, TARGET, -100)
    expected = torch.exp(F.cross_entropy(LOGITS, TARGET, ignore_index=-100))
    if result.shape != ():
        raise Wrong(f"{name} returned shape {tuple(result.shape)}: return one number, exp of the mean loss")
    kept = TARGET != -100
    losses = F.cross_entropy(LOGITS[kept], TARGET[kept], reduction="none")
    raise_first_match(
        result,
        [
            (
                torch.exp(losses.sum() / len(TARGET)),
                "you divided by every token, padding included: the mean is over the tokens that are not "
                "ignore_index (F.cross_entropy(..., ignore_index=-100) does it)",
            ),
            (torch.exp(losses).mean(), "you averaged exp(loss) per token: take exp of the mean loss instead"),
            (torch.exp(losses.sum()), "exp of the sum is not the perplexity: use exp of the mean"),
            (losses.mean(), "that is the mean cross-entropy itself: the perplexity is exp of it"),
            (torch.exp2(losses.mean()), "the loss is in nats (natural log): use torch.exp, not 2 ** loss"),
        ],
        TOLERANCE,
    )
    if not close(result, expected, TOLERANCE):
        raise Wrong(f"{name} gives {fmt(result)}, expected {fmt(expected)}: exp(mean CE over the kept tokens)")
    uniform = call_answer(perplexity, torch.zeros(3, 50, dtype=torch.float64), torch.tensor([1, 2, 3]), -100)
    if not close(uniform, torch.tensor(50.0, dtype=torch.float64), TOLERANCE):
        raise Wrong(f"a uniform model over 50 classes must have perplexity 50, {name} gives {fmt(uniform)}")
    return (
        f"{name} gives exp(mean CE) over the 5 tokens that are not padding, {fmt(expected)} here (these made-up "
        "logits are confidently wrong, worse than a uniform guess); a uniform model over V classes has perplexity V."
    )


# ---------------------------------------------------------------------- exercise 2: chunked logsumexp


@self_check
def check_chunked_logsumexp(chunked_logsumexp):
    """chunked_logsumexp(logits, chunk_size) -> (N,), equal to torch.logsumexp(logits, dim=1)."""
    name = answer_name(chunked_logsumexp)
    for logits, chunk_size in ((LOGITS, 4), (LOGITS, 10), (LOGITS, 3), (LARGE_LOGITS, 4)):
        expected = torch.logsumexp(logits, dim=1)
        result = call_answer(chunked_logsumexp, logits, chunk_size)
        if result.shape != expected.shape:
            raise Wrong(f"{name} returned shape {tuple(result.shape)}: return one value per row, shape (N,)")
        if torch.isinf(result).any() or torch.isnan(result).any():
            raise Wrong(
                f"with logits up to {fmt(logits.abs().max(), '.0f')} {name} gives inf or nan: exp() overflowed. "
                "Keep the running maximum m and sum exp(z - m), rescaling the old sum by exp(m_old - m_new)"
            )
        if close(result, expected, TOLERANCE):
            continue
        last = logits[:, (logits.shape[1] - 1) // chunk_size * chunk_size :]
        raise_first_match(
            result,
            [
                (
                    torch.logsumexp(last, dim=1),
                    f"with chunk_size={chunk_size} you return the last chunk's log-sum-exp only: carry the running "
                    "maximum and sum from chunk to chunk",
                ),
                (
                    logits.amax(dim=1),
                    "you return the running maximum m: add log of the rescaled running sum, m + log s",
                ),
            ],
            TOLERANCE,
        )
        raise Wrong(
            f"with chunk_size={chunk_size}, {name} gives {fmt(result)}, torch.logsumexp gives {fmt(expected)}: "
            "when the maximum grows from m to m', multiply the running sum by exp(m - m') before adding the "
            "new chunk's exp(z - m')"
        )
    return (
        f"{name} equals torch.logsumexp for chunks that divide V and chunks that don't, and for logits up to "
        f"{fmt(LARGE_LOGITS.abs().max(), '.0f')}: only the running maximum and sum cross from one chunk to the next."
    )


# ---------------------------------------------------------------------- exercise 3: a chunk's gradient


def _expected_chunk_gradient(logits, target, start, stop):
    leaf = logits.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(leaf, target), leaf)
    return grad[:, start:stop]


@self_check
def check_chunk_gradient(chunk_gradient):
    """chunk_gradient(chunk, start, lse, target) -> d mean CE / d z for the chunk's classes, (N, k)."""
    name = answer_name(chunk_gradient)
    target = TARGET.clamp(min=0)  # no ignored token here: mean over all N
    lse = torch.logsumexp(LOGITS, dim=1)
    for start, stop in ((0, 4), (4, 8), (8, 10)):
        chunk = LOGITS[:, start:stop]
        expected = _expected_chunk_gradient(LOGITS, target, start, stop)
        result = call_answer(chunk_gradient, chunk, start, lse, target)
        if result.shape != expected.shape:
            raise Wrong(f"{name} returned shape {tuple(result.shape)} for a chunk of shape {tuple(chunk.shape)}")
        if close(result, expected, TOLERANCE):
            continue
        probs = torch.exp(chunk - lse[:, None])
        one_hot = F.one_hot(target, LOGITS.shape[1])[:, start:stop].double()
        raise_first_match(
            result,
            [
                (probs - one_hot, "you forgot the mean's 1 / N: the loss is the mean over the N rows"),
                (
                    (torch.softmax(chunk, dim=1) - one_hot) / len(target),
                    "softmax(chunk) normalises over the chunk only: use exp(z - lse) with the full row's lse",
                ),
                (probs / len(target), "the target's -1 is missing: subtract the one-hot of the target"),
                (
                    (probs - F.one_hot(target, LOGITS.shape[1])[:, : stop - start].double()) / len(target),
                    "the target's column is target - start within the chunk, and only if the target lies in it",
                ),
            ],
            TOLERANCE,
        )
        raise Wrong(
            f"for the classes {start} to {stop - 1}, {name} differs from autograd's gradient: "
            "(exp(z - lse) - onehot(target)) / N, the one-hot shifted by start"
        )
    return f"{name} is autograd's gradient for every chunk: (p - e_y) / N, p from the full row's log-sum-exp."


# --------------------------------------------------------------------------- exercise 4: merge


@self_check
def check_merge(merge):
    """merge(max_a, sum_a, max_b, sum_b) -> (N,): the log-sum-exp of the union of two parts of the classes."""
    name = answer_name(merge)
    parts = []
    for half in (MERGE_LOGITS[:, :4], MERGE_LOGITS[:, 4:]):
        top = half.amax(dim=1)
        parts += [top, torch.exp(half - top[:, None]).sum(dim=1)]
    result = call_answer(merge, *parts)
    expected = torch.logsumexp(MERGE_LOGITS, dim=1)
    if result.shape != expected.shape:
        raise Wrong(f"{name} returned shape {tuple(result.shape)}: return one log-sum-exp per row, shape (N,)")
    if torch.isinf(result).any() or torch.isnan(result).any():
        raise Wrong(
            "the result overflowed: exp(max_a) is out of range for these logits. Rescale each part's sum to the "
            "larger maximum m instead, sum_a exp(max_a - m) + sum_b exp(max_b - m), then add m back after the log"
        )
    praise = (
        f"{name} merges two partial log-sum-exps: m = max(m_a, m_b), then m + log(s_a e^(m_a - m) + s_b e^(m_b - m)). "
        "The parts can come from two halves of the vocabulary on two devices, computed at the same time."
    )
    if close(result, expected, TOLERANCE):
        return praise
    max_a, sum_a, max_b, sum_b = parts
    top = torch.maximum(max_a, max_b)
    raise_first_match(
        result,
        [
            (
                top + torch.log(sum_a + sum_b),
                "you added the two sums as they are, but each is relative to its own maximum: rescale them to "
                "m = max(max_a, max_b), sum_a exp(max_a - m) + sum_b exp(max_b - m)",
            ),
            (
                torch.logaddexp(max_a, max_b),
                "you merged the maxima only: each part's log-sum-exp is its max + log(its sum)",
            ),
            (
                max_a + torch.log(sum_a) + max_b + torch.log(sum_b),
                "log-sum-exps do not add: the sums of exponentials do, after rescaling to a common maximum",
            ),
        ],
        TOLERANCE,
    )
    raise Wrong(
        f"{name} gives {fmt(result)}, torch.logsumexp of the whole rows gives {fmt(expected)}: with "
        "m = max(max_a, max_b), return m + log(sum_a exp(max_a - m) + sum_b exp(max_b - m))"
    )
