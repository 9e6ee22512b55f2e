"""The version matrix: the course verified on another torch release (`make test-torch TORCH=2.14.1`).

Run with the Python of that release's environment (.venv-torch-VERSION, every other pin as in
requirements.txt). It runs, each timed:
- nbval on every notebook: the saved outputs, made with torch 2.13.0, must come out identical;
- the property tests, at a smaller example budget (HYPOTHESIS_PROFILE=matrix) than `make test`'s;
- the curriculum's worked examples, for losslab and for torch;
- the behaviour table (docs/torch-versions.md, tests/test_torch_versions.py): where torch's behaviour
  differs between the supported releases, the installed one behaves as the table says and losslab follows.

Then prints the matrix summary, naming every failure (for nbval: the notebook, the cell and both outputs,
from nbval's own report above it), and exits 1 if anything failed.
"""

import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "build" / "torch-matrix"
OUTPUTS_TORCH = "2.13.0"  # the release the committed outputs were made with (losslab.notebook.OUTPUTS_TORCH)
MATRIX_EXAMPLES = 100  # tests/conftest.py's "matrix" profile; `make test` runs 2,000
# The property tests: every test module that draws its examples with hypothesis.
PROPERTY_TESTS = sorted(
    str(path.relative_to(ROOT))
    for path in (ROOT / "tests").glob("test_*.py")
    if re.search(r"^(from hypothesis import|import hypothesis)", path.read_text(encoding="utf-8"), re.MULTILINE)
)
PARTS = [
    # (name, what it runs, extra environment)
    ("nbval", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), {}),
    ("property tests", PROPERTY_TESTS, {"HYPOTHESIS_PROFILE": "matrix"}),
    ("curriculum examples", ["tests/test_curriculum_examples.py"], {}),
    ("behaviour table", ["tests/test_torch_versions.py"], {}),
]


def run_part(name, paths):
    """pytest on `paths` in this environment; (counts, failures as (test id, message), seconds)."""
    report = REPORTS / f"{name.replace(' ', '-')}.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--junitxml={report}", *paths]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env={**os.environ, **dict(PARTS_ENV[name])}, check=False)
    seconds = time.perf_counter() - start
    return *read_report(report), seconds


def read_report(path):
    if not path.exists():
        return {"tests": 0, "failed": 1, "skipped": 0}, [("pytest", "no report written (pytest did not run)")]
    suite = ElementTree.parse(path).getroot()
    suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    failures = []
    for case in suite.iter("testcase"):
        for problem in (*case.findall("failure"), *case.findall("error")):
            test = f"{case.get('classname')}::{case.get('name')}"
            message = re.sub(r"\x1b\[[0-9;]*m|#x1B\[[0-9;]*m", "", problem.get("message") or "")  # nbval's colours
            failures.append((test, message.strip().splitlines()[:12]))
    counts = {
        "tests": int(suite.get("tests", 0)),
        "failed": int(suite.get("failures", 0)) + int(suite.get("errors", 0)),
        "skipped": int(suite.get("skipped", 0)),
    }
    return counts, failures


PARTS_ENV = {name: env for name, _, env in PARTS}


def main(expected_version):
    installed = torch.__version__
    if installed.split("+")[0] != expected_version:
        sys.exit(f"this environment has torch {installed}, not {expected_version}: run it with its own venv")
    REPORTS.mkdir(parents=True, exist_ok=True)
    print(f"==> torch {installed} (the saved outputs were made with torch {OUTPUTS_TORCH})", flush=True)
    rows, all_failures = [], []
    for name, paths, _ in PARTS:
        print(f"\n==> {name} under torch {installed}", flush=True)
        counts, failures, seconds = run_part(name, paths)
        rows.append((name, counts, seconds))
        all_failures += [(name, test, message) for test, message in failures]

    print(f"\n== the version matrix: torch {installed} ==")
    budget = f" ({MATRIX_EXAMPLES} examples per property; `make test` runs 2,000 under torch {OUTPUTS_TORCH})"
    for name, counts, seconds in rows:
        passed = counts["tests"] - counts["failed"] - counts["skipped"]
        verdict = "passed" if not counts["failed"] and counts["tests"] else "FAILED"
        detail = f"{passed} passed, {counts['failed']} failed, {counts['skipped']} skipped"
        print(f"  {name:20} {verdict:6}  {detail}{budget if name == 'property tests' else ''}  ({seconds:.0f} s)")
    for part, test, message in all_failures:
        print(f"  FAILED in {part}: {test}")
        for line in message:
            print(f"      {line}")
    failed = any(counts["failed"] or not counts["tests"] for _, counts, _ in rows)
    total = sum(seconds for *_, seconds in rows)
    print(f"  torch {installed}: {'FAILED' if failed else 'verified'} in {total:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/torch_matrix.py TORCH_VERSION   (run with that version's environment)")
    sys.exit(main(sys.argv[1]))
