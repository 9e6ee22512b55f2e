"""Notebook 09's figure: the logits outgrow everything else as the vocabulary grows, and the online
log-sum-exp reaches torch.logsumexp chunk by chunk."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..vocabulary import chunk_bounds, logits_bytes, online_update
from . import course_figure

N_TOKENS = 8 * 4096
HIDDEN_SIZE = 4096
CHUNK_SIZE = 4096
VOCAB_SIZES = (32_000, 50_257, 128_256, 256_000)  # vocabularies of real language models
ROW_CLASSES, ROW_CHUNK = 4096, 256  # the right panel's row of logits and its chunks


def running_logsumexp(logits, chunk_size):
    """m + log s after each chunk of one row of logits (C,): a float64 array, one value per chunk."""
    running_max = torch.full((1,), -torch.inf, dtype=torch.float64)
    running_sum = torch.zeros(1, dtype=torch.float64)
    values = []
    for start, stop in chunk_bounds(logits.shape[0], chunk_size):
        running_max, running_sum = online_update(running_max, running_sum, logits[None, start:stop])
        values.append((running_max + running_sum.log()).item())
    return np.array(values)


@course_figure("09_vocabulary_memory.png")
def vocabulary_memory(vocab_sizes=VOCAB_SIZES, n_tokens=N_TOKENS, hidden_size=HIDDEN_SIZE, chunk_size=CHUNK_SIZE):
    """Left: the bytes of the full logits, of one chunk of them and of the output weight against the vocabulary
    size, for N tokens in float32. Right: the running log-sum-exp of one seeded row, chunk by chunk, reaching
    torch.logsumexp."""
    fig, (memory_ax, online_ax) = plt.subplots(1, 2, figsize=(10.5, 3.6), gridspec_kw={"width_ratios": [1.2, 1]})
    # Every curve is linear in V, a straight line on log-log axes, so its two ends draw it. Many collinear
    # points would leave matplotlib's path simplification to choose the vertices it keeps by rounding,
    # which differs between numpy's AVX2 and AVX-512 builds (and so would the PNG's bytes).
    grid = np.array([8_000.0, 300_000.0])
    memory_ax.plot(grid, n_tokens * grid * 4 / 1e9, color="C3", label="full logits (N, V)")  # 4 B each
    memory_ax.plot(
        grid,
        [logits_bytes(n_tokens, chunk_size) / 1e9] * len(grid),
        color="C0",
        label=f"one chunk of {chunk_size} classes",
    )
    memory_ax.plot(
        grid, [v * hidden_size * 4 / 1e9 for v in grid], color="C2", label=f"output weight W (V, d = {hidden_size})"
    )
    for v in vocab_sizes:
        gigabytes = logits_bytes(n_tokens, v) / 1e9
        memory_ax.plot([v], [gigabytes], "o", color="C3", markersize=5)
        memory_ax.annotate(
            f"{gigabytes:.1f} GB",
            (v, gigabytes),
            textcoords="offset points",
            xytext=(-8, 6),
            ha="right",
            fontsize="small",
        )
    memory_ax.set_xscale("log")
    memory_ax.set_yscale("log")
    memory_ax.set_xlabel(f"vocabulary size V (log scale); N = {n_tokens} tokens, float32")
    memory_ax.set_ylabel("GB (log scale)")
    memory_ax.set_title("the logits outgrow everything else")
    memory_ax.legend(fontsize="small", frameon=False, loc="lower right")

    generator = torch.Generator().manual_seed(9)
    row = torch.randn(ROW_CLASSES, generator=generator, dtype=torch.float64) * 2  # (C,)
    row[3000] = 12.0  # a confident model: one large logit, met late
    values = running_logsumexp(row, ROW_CHUNK)
    chunks = np.arange(1, len(values) + 1)
    online_ax.plot(chunks, values, "o-", color="C0", markersize=3, label="m + log s after each chunk")
    online_ax.axhline(
        torch.logsumexp(row, dim=0).item(), color="C3", linestyle="--", linewidth=1, label="torch.logsumexp"
    )
    online_ax.set_xlabel(f"chunks of {ROW_CHUNK} classes seen (C = {ROW_CLASSES})")
    online_ax.set_ylabel("running log-sum-exp")
    online_ax.set_title("online log-sum-exp: exact once every chunk is in")
    online_ax.legend(fontsize="small", frameon=False, loc="lower right")
    for ax in (memory_ax, online_ax):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
