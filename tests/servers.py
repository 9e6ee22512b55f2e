"""Start a real Jupyter server (or JupyterLab) for a test, on a free localhost port, and stop it.

    with jupyter_server(root_dir, app="lab", course_config=True) as server:
        server.url            # "http://127.0.0.1:PORT/"
        server.log()          # everything the server has printed so far

`lab_settings` ({plugin id: {setting: value}}) replaces JupyterLab's defaults for this server, e.g.
{"@jupyterlab/docmanager-extension:plugin": {"autosave": False}}.

`course_config=True` puts the course's `jupyter-config/` folder (TCP_NODELAY on kernel websockets,
JupyterLab setting defaults) on JUPYTER_CONFIG_PATH, exactly as `make lab` and Binder do;
`course_config=False` runs stock settings. Either way the user's own Jupyter
configuration (~/.jupyter) is kept out with an empty temporary JUPYTER_CONFIG_DIR.

    with static_server(folder) as url:   # a folder of static pages over HTTP (decks, the site)
"""

import contextlib
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE_CONFIG = ROOT / "jupyter-config"
START_TIMEOUT_S = 60

# No outbound fetches (this machine has no network), no token (the server only listens on 127.0.0.1).
BASE_ARGS = [
    "--no-browser",
    "--ServerApp.ip=127.0.0.1",
    "--ServerApp.port_retries=0",
    "--ServerApp.token=",
    "--ServerApp.password=",
    "--ServerApp.allow_root=True",
    "--ServerApp.disable_check_xsrf=True",
]
LAB_ARGS = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.expose_app_in_browser=True",
]
# JupyterLab's news toast would cover part of the page in screenshots.
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


class RunningServer:
    def __init__(self, process, port, log_path):
        self.process, self.port, self.log_path = process, port, log_path
        self.url = f"http://127.0.0.1:{port}/"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def api(self, path, method="GET", body=None):
        """JSON from the server's REST API, e.g. api("api/kernels", "POST", {"name": "python3"})."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(root_dir, app="server", course_config=True, extra_args=(), lab_settings=None, command=None):
    """A `jupyter server` or `jupyter lab` serving `root_dir`; stopped (with its kernels) on exit.

    `command` replaces `python -m jupyterlab` (or `jupyter_server`), e.g. with binder/start and another
    environment's `jupyter-lab`."""
    with tempfile.TemporaryDirectory(prefix="losslab-jupyter-") as scratch:
        scratch = Path(scratch)
        config_dir = scratch / "config"
        (config_dir / "labconfig").mkdir(parents=True)
        (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
        if lab_settings:
            (config_dir / "labconfig" / "default_setting_overrides.json").write_text(json.dumps(lab_settings))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(scratch / "runtime"))
        env.pop("JUPYTER_CONFIG_PATH", None)
        if course_config:
            env["JUPYTER_CONFIG_PATH"] = str(COURSE_CONFIG)
        module = "jupyterlab" if app == "lab" else "jupyter_server"
        args = BASE_ARGS + (LAB_ARGS if app == "lab" else []) + list(extra_args)
        log_path = scratch / "server.log"
        port = free_port()
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [
                    *(command or [sys.executable, "-m", module]),
                    f"--ServerApp.port={port}",
                    f"--ServerApp.root_dir={root_dir}",
                    *args,
                ],
                cwd=root_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = RunningServer(process, port, log_path)
        try:
            _wait_until_up(server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(server):
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited with code {server.process.returncode}:\n{server.log()}")
        try:
            server.api("api/status")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the Jupyter server did not answer within {START_TIMEOUT_S} s:\n{server.log()}")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def static_server(folder):
    """`folder` over HTTP on a free localhost port (a deck or the site: a browser loads MathJax's fonts
    only over HTTP); yields its URL, "http://127.0.0.1:PORT/"."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
