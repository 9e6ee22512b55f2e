"""What Binder's image holds, reproduced without Docker.

repo2docker builds on a conda environment of its own (the lock file shipped inside the installed
`jupyter-repo2docker` package) and pip-installs binder/requirements.txt into it. This module reads that
lock, computes what binder/requirements.txt must pin (the run-time closure of the course's roots, at
the development environment's versions) and builds the same environment as a venv from PyPI.

    python tools/binder_env.py pins          # print the pins binder/requirements.txt must hold
    python tools/binder_env.py build DIR     # build the simulated Binder environment in DIR
"""

import hashlib
import importlib.metadata as metadata
import re
import subprocess
import sys
from pathlib import Path

import repo2docker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
BINDER_REQUIREMENTS = ROOT / "binder" / "requirements.txt"
PYTHON = "3.11"
LOCK = Path(repo2docker.__file__).parent / "buildpacks" / "conda" / f"environment.py-{PYTHON}-linux-64.lock"
# What the notebooks need at run time and what a learner's JupyterLab needs (nbgitpuller: a class hub built
# from this image pulls the course into each home with it); nothing for testing.
RUNTIME_ROOTS = ("torch", "numpy", "matplotlib", "ipywidgets", "ipykernel", "jupyterlab", "notebook", "nbgitpuller")
# The lock's Python packages that PyPI knows under another name.
CONDA_TO_PYPI = {
    "brotli-python": "brotli",
    "python-fastjsonschema": "fastjsonschema",
    "nbconvert-core": "nbconvert",
    "jupyterhub-base": "jupyterhub",
}
_LOCKED = re.compile(r"/(?:noarch|linux-64)/(?P<name>.+)-(?P<version>[^-]+)-(?P<build>[^-]+)\.(?:conda|tar\.bz2)#")
_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
# Installers, not run-time code: the base brings its own (torch's setuptools>=77 is met by the base's 80.9).
_INSTALLERS = {"pip", "setuptools", "wheel"}


def base_packages(lock=LOCK):
    """{PyPI name: version} of the Python packages in repo2docker's base environment.

    Conda's Python packages have build strings starting with "py" (pyhd8ed1ab_0, py311h...); the rest
    are system libraries, the interpreter and metapackages (jupyterhub-singleuser, bleach-with-css).
    """
    found = {}
    for line in lock.read_text().splitlines():
        match = _LOCKED.search(line)
        if match and match["build"].startswith("py"):
            name = canonicalize_name(match["name"])
            found[CONDA_TO_PYPI.get(name, name)] = match["version"]
    return found


def base_spec(lock=LOCK):
    """The headline versions of the base, as the issue and the docs quote them."""
    base = base_packages(lock)
    return {name: base[name] for name in ("jupyterlab", "notebook", "jupyter-server", "ipykernel", "ipywidgets")}


def runtime_closure(roots=RUNTIME_ROOTS):
    """{name: version} of the roots and everything they require, read from the running environment."""
    found, todo = {}, [canonicalize_name(root) for root in roots]
    while todo:
        name = todo.pop()
        if name in found or name in _INSTALLERS:
            continue
        dist = metadata.distribution(name)
        found[name] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return found


def pinned(path=BINDER_REQUIREMENTS):
    """{name: version} of a requirements file's `name==version` lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def offline_requirements(path=BINDER_REQUIREMENTS):
    """binder/requirements.txt with its CPU index line dropped: pip takes torch's +cpu wheel from this disk."""
    lines = path.read_text().splitlines()
    assert _CPU_INDEX in lines, f"{path} must keep the line {_CPU_INDEX!r}"
    return "\n".join(line for line in lines if line != _CPU_INDEX) + "\n"


def fingerprint():
    """Changes when the lock, binder/requirements.txt or this recipe changes."""
    digest = hashlib.sha256()
    for path in (LOCK, BINDER_REQUIREMENTS, Path(__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build(target, python=sys.executable, log=print):
    """Build the simulated Binder environment in `target`: the base at the lock's versions, then ours."""
    target = Path(target)
    pip = [str(target / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    quiet = ["--quiet", "--root-user-action=ignore"]
    subprocess.run([python, "-m", "venv", "--clear", str(target)], check=True)
    base = base_packages()
    log(f"==> base environment: {len(base)} packages at the versions of {LOCK.name}")
    # --no-deps: the lock is already a complete, solved environment; pip must not re-solve it.
    base_file = target / "base-requirements.txt"
    base_file.write_text("".join(f"{name}=={version}\n" for name, version in sorted(base.items())))
    subprocess.run([*pip, "install", *quiet, "--no-deps", "-r", str(base_file)], check=True)
    (target / ".base-bytes").write_text(str(size_bytes(target)))
    log("==> binder/requirements.txt over it, as repo2docker runs it (pip, with dependencies)")
    ours = target / "binder-requirements.txt"
    ours.write_text(offline_requirements())
    subprocess.run([*pip, "install", *quiet, "-r", str(ours)], check=True)
    (target / ".fingerprint").write_text(fingerprint())
    return target


def ensure(target, log=print):
    """Reuse `target` if it was built from the current lock and requirements, else build it."""
    target = Path(target)
    stamp = target / ".fingerprint"
    if stamp.exists() and stamp.read_text() == fingerprint():
        log(f"==> reusing the simulated Binder environment in {target}")
        return target
    return build(target, log=log)


def size_bytes(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file() and not f.is_symlink())


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "pins"
    if command == "pins":
        pins = runtime_closure()
        for name in sorted(pins):
            print(f"{name}=={pins[name]}")
    elif command == "build":
        build(sys.argv[2])
    else:
        sys.exit(__doc__)
