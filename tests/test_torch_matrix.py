"""The version matrix's plumbing: the releases the course says it is verified on are the ones it verifies.

losslab.notebook.VERIFIED_TORCH (what the Colab note names), the Makefile's default TORCH for
`make test-torch`, .ci/run, the README and docs/torch-versions.md must name the same releases; the
second environment is built from requirements.txt with only the torch pin changed.
"""

import re
import subprocess
from pathlib import Path

from losslab.notebook import OUTPUTS_TORCH, VERIFIED_TORCH

ROOT = Path(__file__).resolve().parents[1]
MATRIX = VERIFIED_TORCH[1:]  # the releases besides the one the outputs were made with


def test_the_outputs_torch_comes_first_and_the_matrix_has_another_release():
    assert VERIFIED_TORCH[0] == OUTPUTS_TORCH
    assert MATRIX and OUTPUTS_TORCH not in MATRIX


def test_make_test_torch_defaults_to_the_matrix_release_and_ci_runs_it():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^TORCH \?= (\S+)$", makefile, re.M)[1] == MATRIX[0]
    ci = (ROOT / ".ci" / "run").read_text()
    for release in MATRIX:
        assert f"make test-torch TORCH={release}" in ci


def test_the_readme_and_the_table_name_the_verified_releases():
    readme = (ROOT / "README.md").read_text()
    assert f"verified on torch {' and '.join(VERIFIED_TORCH)}" in readme
    table = (ROOT / "docs" / "torch-versions.md").read_text()
    for release in VERIFIED_TORCH:
        assert f"**torch {release}**" in table


def test_the_second_environment_changes_only_the_torch_pin(tmp_path):
    """make's recipe for .venv-torch-VERSION, dry-run: the requirements it writes are requirements.txt with
    torch==VERSION and nothing else changed."""
    dry_run = subprocess.run(
        ["make", "-n", "-B", f"TORCH={MATRIX[0]}", f".venv-torch-{MATRIX[0]}/.requirements-installed"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    sed = next(line for line in dry_run.stdout.splitlines() if line.startswith("sed "))
    written = subprocess.run(
        sed.split(" > ")[0], shell=True, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    original = (ROOT / "requirements.txt").read_text().splitlines()
    changed = [(old, new) for old, new in zip(original, written, strict=True) if old != new]
    assert changed == [(f"torch=={OUTPUTS_TORCH}", f"torch=={MATRIX[0]}")]
