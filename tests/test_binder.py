"""Binder must install what `make test` installs, with the CPU build of torch."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")


def pins(path):
    """{normalised name: version} for every `name==version` line; fails on any unpinned requirement."""
    found = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("--extra-index-url"):
            continue
        match = PIN.match(line)
        assert match, f"{path}: '{line}' is not pinned with =="
        found[match[1].lower().replace("_", "-")] = match[2]
    return found


def test_requirements_pin_cpu_torch_2_13():
    assert pins("requirements.txt")["torch"] == "2.13.0"


def test_binder_requirements_match_requirements_txt():
    local, binder = pins("requirements.txt"), pins("binder/requirements.txt")
    assert binder.pop("torch") == "2.13.0+cpu", "Binder must pin the CPU build of torch"
    local.pop("torch")
    assert binder == local


def test_binder_uses_pytorch_cpu_index_and_python_3_11():
    text = (ROOT / "binder/requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text.splitlines()
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.11"


def test_readme_binder_link_opens_notebook_01_in_lab():
    readme = (ROOT / "README.md").read_text()
    link = re.search(r"https://mybinder\.org/v2/gh/[^/\s]+/[^/\s]+/\w+\?urlpath=lab/tree/(\S+?)\)", readme)
    assert link, "README must carry a Binder link that opens JupyterLab"
    assert link[1] == "notebooks/01_logits_and_softmax.ipynb"
    assert (ROOT / link[1]).exists()
