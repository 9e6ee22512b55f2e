"""Cross-entropy at vocabulary scale (notebook 09): peak memory and time of one forward plus backward pass.

    .venv/bin/python tests/bench/bench_vocabulary.py [--tokens 2048] [--hidden 512] [--vocab 32000]
                                                     [--chunk-size 4096] [--rounds 2] [--threads 1]

Four ways to get the loss and the gradients with respect to the hidden states and the output weight, in
float32:
    naive            F.cross_entropy(hidden @ weight.T, target): the full (N, V) logits
    torch            F.linear_cross_entropy(hidden, weight, target): torch's reference path (no options)
    torch chunked    the same with options=LinearCrossEntropyOptions(): torch chunks the *batch* (rows)
    losslab          losslab.vocabulary.linear_cross_entropy: chunks the *vocabulary* (columns)

Memory: each variant runs in a fresh Python process (the same script, `--variant NAME`). After a warm-up
pass at full size, the process resets its peak resident memory (writing 5 to /proc/self/clear_refs), reads
its resident memory (the baseline: torch, the inputs), runs one forward plus backward pass and reports its
peak resident memory (VmHWM) minus that baseline. glibc's malloc is told to give every allocation above
64 kB its own mapping (MALLOC_MMAP_THRESHOLD_), so freed memory goes back to the system and each variant's
peak is its own, measured the same way for all four.

Time: in the same processes, the best of two passes; each round runs all four, and a variant's ratio is
its time over the naive time of the same round (the median over rounds is reported). One thread by
default: the machine is shared, and a ratio is what the targets are about.

Targets (issue 14): losslab's peak memory at most 1/4 of the naive peak, its time at most 1.3x naive.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("naive", "torch", "torch chunked", "losslab")
MEMORY_TARGET = 0.25  # losslab's peak at most 1/4 of naive's
TIME_TARGET = 1.3  # losslab's time at most 1.3x naive's


def _status(field):
    """A field of /proc/self/status in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_variant(name, tokens, hidden_size, vocab, chunk_size):
    """In this (fresh) process: warm up, then the peak memory above the baseline and the time of one pass."""
    sys.path.insert(0, str(ROOT / "notebooks"))
    import torch
    import torch.nn.functional as F
    from torch.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions

    from losslab.vocabulary import linear_cross_entropy

    generator = torch.Generator().manual_seed(0)
    hidden_states = torch.randn(tokens, hidden_size, generator=generator)  # (N, d)
    output_weight = torch.randn(vocab, hidden_size, generator=generator) / hidden_size**0.5  # (V, d)
    target = torch.randint(0, vocab, (tokens,), generator=generator)  # (N,)
    losses = {
        "naive": lambda h, w: F.cross_entropy(h @ w.T, target),
        "torch": lambda h, w: F.linear_cross_entropy(h, w, target),
        "torch chunked": lambda h, w: F.linear_cross_entropy(h, w, target, options=LinearCrossEntropyOptions()),
        "losslab": lambda h, w: linear_cross_entropy(h, w, target, chunk_size=chunk_size),
    }
    loss_of = losses[name]
    h = hidden_states.clone().requires_grad_(True)
    w = output_weight.clone().requires_grad_(True)

    def step():
        h.grad = w.grad = None
        loss = loss_of(h, w)
        loss.backward()
        return loss.item()

    step()  # warm-up: kernels loaded, thread pool started, the gradient tensors' first allocation
    h.grad = w.grad = None
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident memory
    baseline = _status("VmRSS")
    start = time.perf_counter()
    loss = step()
    first = time.perf_counter() - start
    peak = _status("VmHWM") - baseline
    start = time.perf_counter()
    step()
    second = time.perf_counter() - start
    return {"peak_bytes": peak, "seconds": min(first, second), "loss": loss, "grad_weight_norm": w.grad.norm().item()}


def measure(name, args):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS=str(args.threads))
    command = [sys.executable, __file__, "--variant", name, "--tokens", str(args.tokens), "--hidden", str(args.hidden)]
    command += ["--vocab", str(args.vocab), "--chunk-size", str(args.chunk_size)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"variant {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def megabytes(n_bytes):
    return f"{n_bytes / 1e6:8.1f} MB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.tokens, args.hidden, args.vocab, args.chunk_size)))
        return 0

    n, d, v = args.tokens, args.hidden, args.vocab
    print(f"N = {n} tokens, hidden d = {d}, vocabulary V = {v}, float32, {args.threads} thread(s)")
    print(
        f"losslab chunk = {args.chunk_size} classes; the full logits are N x V x 4 B = {megabytes(n * v * 4).strip()}"
    )
    results = {name: [] for name in VARIANTS}
    for round_number in range(args.rounds):
        order = VARIANTS[round_number % len(VARIANTS) :] + VARIANTS[: round_number % len(VARIANTS)]
        for name in order:
            results[name].append(measure(name, args))
    naive_times = [r["seconds"] for r in results["naive"]]
    naive_peak = statistics.median(r["peak_bytes"] for r in results["naive"])
    rows = []
    print()
    print(f"{'variant':<15} {'chunks':<12} {'peak memory':>12} {'x naive':>8} {'time':>8} {'naive':>8} {'x naive':>8}")
    for name in VARIANTS:
        peak = statistics.median(r["peak_bytes"] for r in results[name])
        times = [r["seconds"] for r in results[name]]
        ratio = statistics.median(t / base for t, base in zip(times, naive_times, strict=True))
        axis = {"naive": "none", "torch": "none", "torch chunked": "batch (N)", "losslab": "vocabulary"}[name]
        rows.append((name, peak, ratio))
        print(
            f"{name:<15} {axis:<12} {megabytes(peak):>12} {peak / naive_peak:8.2f} {statistics.median(times):7.2f}s "
            f"{statistics.median(naive_times):7.2f}s {ratio:8.2f}"
        )
    losses = {name: results[name][0]["loss"] for name in VARIANTS}
    spread = max(losses.values()) - min(losses.values())
    print(f"\nloss of every variant: {losses['naive']:.6f} (largest difference between variants {spread:.1e})")
    _, lab_peak, lab_ratio = rows[-1]
    memory_met = lab_peak <= MEMORY_TARGET * naive_peak
    time_met = lab_ratio <= TIME_TARGET
    torch_chunked_peak = rows[2][1]
    print(
        f"target: losslab's peak memory <= 1/4 of naive's: {lab_peak / naive_peak:.2f} of it: "
        f"{'met' if memory_met else 'NOT MET'}"
    )
    print(f"target: losslab's time <= {TIME_TARGET}x naive's: {lab_ratio:.2f}x: {'met' if time_met else 'NOT MET'}")
    print(
        f"beside torch's chunked path: losslab {megabytes(lab_peak).strip()}, torch chunked "
        f"{megabytes(torch_chunked_peak).strip()} ({rows[2][2]:.2f}x naive's time)"
    )
    return 0 if memory_met and time_met else 1


if __name__ == "__main__":
    sys.exit(main())
