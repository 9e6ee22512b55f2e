"""Size on disk of the simulated Binder environment (tools/binder_env.py), and what binder/requirements.txt
adds to repo2docker's base. Target: at most 1.5 GB in all; torch alone is the floor of what we add.

Run with `make bench`; builds build/binder-env if it is missing or stale. Prints figures; exits 1 if the
target is missed. Beside them, in the same run: the development environment (.venv), which adds the
test tools, to show what keeping them out of Binder saves.
Usage: python tests/bench/bench_binder_env.py
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import binder_env  # noqa: E402

TARGET_BYTES = 1.5e9


def gb(n):
    return f"{n / 1e9:6.2f} GB"


def main():
    env = binder_env.ensure(ROOT / "build" / "binder-env", log=lambda line: print(line, flush=True))
    total = binder_env.size_bytes(env)
    base = int((env / ".base-bytes").read_text())
    site = env / "lib" / f"python{binder_env.PYTHON}" / "site-packages"
    torch = binder_env.size_bytes(site / "torch")
    development = binder_env.size_bytes(ROOT / ".venv")
    print("simulated Binder environment (build/binder-env; sizes in GB = 10^9 bytes)")
    print(f"  repo2docker's base (its lock's Python packages) {gb(base)}")
    print(f"  added by binder/requirements.txt                {gb(total - base)}   (of which torch {gb(torch)})")
    print(f"  in all                                          {gb(total)}")
    print(f"  the development environment (.venv), same run   {gb(development)}   (test tools included, no base)")
    verdict = "met" if total <= TARGET_BYTES else "NOT MET"
    print(f"target: in all <= {TARGET_BYTES / 1e9:.1f} GB: {verdict}")
    return 0 if total <= TARGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
