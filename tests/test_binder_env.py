"""Binder's environment, rebuilt without Docker, and the course run inside it.

repo2docker's image is its base conda environment (the lock file inside jupyter-repo2docker) with
binder/requirements.txt pip-installed over it. tools/binder_env.py builds the same set of Python
packages as a venv in build/binder-env: the lock's packages at the lock's versions from PyPI, then
binder/requirements.txt as repo2docker runs it (the CPU index line dropped: pip takes torch's +cpu wheel
from this disk). In it: `pip check` must be clean, nbval passes on every notebook with the kernel running
in that environment, and JupyterLab started through binder/start serves /lab with the course's server
configuration active. Slow (about 1.5 min to build, 3 min of nbval); `make test SKIP_BINDER=1` skips it
locally, CI never does. The environment is reused while the lock, the requirements and the recipe are
unchanged (a fresh clone always builds it).
"""

import json
import subprocess
import sys
import urllib.request

import pytest

import binder_env
from servers import ROOT, jupyter_server
from test_server_config import LOG_LINE, open_kernel_websocket, server_side_nodelay

pytestmark = pytest.mark.binder_env
ENV_DIR = ROOT / "build" / "binder-env"
KERNEL = "losslab-binder"


@pytest.fixture(scope="module")
def env():
    return binder_env.ensure(ENV_DIR)


def installed(env):
    run = subprocess.run(
        [env / "bin" / "python", "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {binder_env.canonicalize_name(p["name"]): p["version"] for p in json.loads(run.stdout)}


def test_pip_check_is_clean(env):
    run = subprocess.run([env / "bin" / "python", "-m", "pip", "check"], capture_output=True, text=True)
    assert run.returncode == 0, f"pip check in the simulated Binder environment:\n{run.stdout}{run.stderr}"


def test_environment_is_the_base_with_our_pins_over_it(env):
    packages, ours, base = installed(env), binder_env.pinned(), binder_env.base_packages()
    assert {name: packages.get(name) for name in ours} == ours
    untouched = {name: version for name, version in base.items() if name not in ours}
    assert {name: packages.get(name) for name in untouched} == untouched
    # The base's own Jupyter extras stay, at the lock's versions: Binder's image has them too.
    for name in ("jupyterhub", "jupyter-offlinenotebook", "jupyter-resource-usage"):
        assert packages[name] == base[name]


def test_nbval_passes_with_the_kernel_in_binders_environment(env, tmp_path):
    """pytest and nbval come from the development environment (they are not in Binder's); every cell runs
    in a kernel of the Binder environment, found through a kernelspec on JUPYTER_PATH."""
    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [str(env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Binder", "language": "python"}))
    environment = {**subprocess_env(), "JUPYTER_PATH": str(tmp_path)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from jupyter_client.kernelspec import get_kernel_spec; print(get_kernel_spec({KERNEL!r}).argv[0])",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == argv[0]
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
            "-q",
            "--nbval",
            "--nbval-kernel-name",
            KERNEL,
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            *notebooks,
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, f"nbval in the Binder environment failed:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    assert " passed" in run.stdout and " failed" not in run.stdout


def test_jupyterlab_through_binder_start_serves_the_course_with_its_config(env):
    start = [str(ROOT / "binder" / "start"), str(env / "bin" / "jupyter-lab")]
    # course_config=False: nothing puts jupyter-config/ on the path but binder/start itself.
    with jupyter_server(ROOT, app="lab", course_config=False, command=start) as server:
        with urllib.request.urlopen(server.url + "lab/tree/notebooks/01_logits_and_softmax.ipynb", timeout=30) as page:
            html = page.read().decode()
            assert page.status == 200
        assert '"appVersion": "' + installed(env)["jupyterlab"] + '"' in html.replace('":"', '": "')
        kernel_id = server.api("api/kernels", "POST", {"name": "python3"})["id"]
        ws = open_kernel_websocket(server, kernel_id)
        try:
            client_port = ws.protocol.stream.socket.getsockname()[1]
            assert server_side_nodelay(server.process.pid, client_port) == 1
            assert LOG_LINE.format(kernel_id) in server.log()
        finally:
            ws.close()
        kernel = server.api(f"api/kernels/{kernel_id}")
        assert kernel["name"] == "python3"


def subprocess_env():
    import os

    environment = dict(os.environ)
    environment.pop("JUPYTER_CONFIG_PATH", None)
    return environment
