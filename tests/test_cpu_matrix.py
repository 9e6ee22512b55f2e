"""Outputs are contracts on any CPU and any thread count: nbval passes on every notebook with one thread
and torch's scalar kernels (ATEN_CPU_CAPABILITY=default, as on a CPU without vector instructions), and with
two threads and the AVX2 kernels. (The main nbval run uses this machine's own: AVX-512 here, all cores.)
numpy and MKL (torch's matrix products) choose their loops by the CPU too: each row also holds them to that
CPU's instructions (numpy's baseline, or AVX2 without AVX-512). `MATRIX[0]` is "another CPU" for the tests
of figures and explorer images as well.

Each run is a separate pytest process, since torch reads both settings when it starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MATRIX = [
    {
        "OMP_NUM_THREADS": "1",
        "ATEN_CPU_CAPABILITY": "default",
        "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
        "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    },
    {
        "OMP_NUM_THREADS": "2",
        "ATEN_CPU_CAPABILITY": "avx2",
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    },
]


@pytest.mark.parametrize("settings", MATRIX, ids=lambda s: f"{s['OMP_NUM_THREADS']}-thread-{s['ATEN_CPU_CAPABILITY']}")
def test_nbval_passes(settings):
    env = dict(os.environ, **settings)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "notebooks", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, f"nbval with {settings} failed:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
