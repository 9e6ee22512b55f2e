"""What Binder installs, checked without building anything.

binder/requirements.txt holds the run-time closure of the course's roots (what the notebooks import and
the JupyterLab they open in) at requirements.txt's versions, and nothing for testing; repo2docker's
Dockerfile installs it into the base environment of the lock file that tests/test_binder_env.py
rebuilds, with Python 3.11 and binder/start as the entrypoint.
"""

import subprocess
import sys

from repo2docker.buildpacks.base import BuildPack

import binder_env
from servers import ROOT

TEST_TOOLS = {
    "pytest",
    "hypothesis",
    "playwright",
    "ruff",
    "nbval",
    "coverage",
    "jupyter-repo2docker",
    "axe-playwright-python",
    "pytest-xdist",
}


def test_requirements_pin_cpu_torch_2_13():
    assert binder_env.pinned(ROOT / "requirements.txt")["torch"] == "2.13.0"
    assert binder_env.pinned()["torch"] == "2.13.0+cpu", "Binder must pin the CPU build of torch"


def test_binder_pins_are_the_runtime_closure_at_the_development_versions():
    binder = binder_env.pinned()
    closure = binder_env.runtime_closure()
    assert set(binder) == set(closure), (
        f"binder/requirements.txt lacks {sorted(set(closure) - set(binder))} and should not hold "
        f"{sorted(set(binder) - set(closure))}: regenerate with `python tools/binder_env.py pins`"
    )
    development = binder_env.pinned(ROOT / "requirements.txt")
    development["torch"] += "+cpu"
    differing = {
        name: (version, development.get(name)) for name, version in binder.items() if development.get(name) != version
    }
    assert not differing, f"Binder's pins must equal requirements.txt's (binder, dev): {differing}"


def test_binder_installs_no_test_tools():
    assert not TEST_TOOLS & set(binder_env.pinned())
    assert TEST_TOOLS - {"pytest-xdist"} <= set(binder_env.pinned(ROOT / "requirements.txt"))


def test_binder_uses_pytorch_cpu_index_and_python_3_11():
    text = (ROOT / "binder/requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text.splitlines()
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.11"


def test_base_environment_is_read_from_repo2dockers_own_lock():
    """The versions the issue found (repo2docker 2026.4); an upgrade of jupyter-repo2docker changes them
    here, and test_binder_env then rebuilds the new base."""
    base = binder_env.base_packages()
    assert binder_env.LOCK.exists() and len(base) > 100
    if binder_env.repo2docker.__version__.startswith("2026.4."):
        assert binder_env.base_spec() == {
            "jupyterlab": "4.4.9",
            "notebook": "7.4.7",
            "jupyter-server": "2.17.0",
            "ipykernel": "7.0.1",
            "ipywidgets": "8.1.7",
        }
        assert base["jupyterhub"] == "5.4.0"
    # What the base has and we pin must move together: the base's notebook needs a JupyterLab below 4.5.
    assert "notebook" in binder_env.pinned() and "jupyterlab" in binder_env.pinned()


def test_repo2docker_dockerfile_installs_our_requirements_on_python_3_11_with_binder_start():
    run = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    dockerfile = run.stdout + run.stderr
    assert run.returncode == 0, dockerfile[-3000:]
    assert "Building conda environment for python=3.11" in dockerfile
    # The base it installs is the lock file test_binder_env rebuilds (named in the build context as
    # repo2docker names it).
    context_name, _ = BuildPack.generate_build_context_filename(str(binder_env.LOCK))
    assert f"COPY --chown=0:0 {context_name} /tmp/env/environment.lock" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile
    # Nothing else from the repository is installed (no root requirements.txt, no postBuild).
    assert dockerfile.count("pip install") == 1
