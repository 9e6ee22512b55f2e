"""A real JupyterHub for tests and benchmarks, from the same deploy/jupyterhub_config.py as `make hub`.

    with jupyterhub() as hub:                  # free localhost ports, state in a temporary folder
        session = hub.login("alice")           # a requests.Session logged in through the login form
        hub.start_server("alice")              # spawns alice's JupyterLab and waits until it answers
        session.get(hub.user_url("alice") + "lab")
        token = hub.token_for("alice")         # an API token of alice's (scopes: her default ones)
        hub.api("users")                       # the hub's REST API with the admin service's token
        hub.restart()                          # stop the hub process only, start it again (same state)
        hub.home("alice")                      # her home folder (a Path)
        hub.processes()                        # every live process this hub started (psutil)
        kernel = KernelConnection(hub, "alice", token)   # a new kernel of alice's, through the proxy
        kernel.execute("print(1 + 1)")["stdout"]         # "2\n"
    # on exit: the hub, its proxy, the culler, every student server and kernel are killed, and checked gone

Only ports, the state folder, the password and the admin token differ from `make hub`: the config
reads the last three from environment variables, the ports are the hub's command-line options.
The hub is started in its own session (process group). Its proxy, services and student servers each
start their own session too (JupyterHub does that so signals to the hub do not reach them), so the
group alone does not find them all: every process the hub starts carries LOSSLAB_HUB_RUN=<a random id>
in its environment (the config passes it on; kernels inherit it from their server), and stop() kills
the process groups of every process carrying it, then fails if any is still alive.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import requests
import websocket

from servers import ROOT, free_port

CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
DEFAULT_CHP = ROOT / "build" / "hub-npm" / "node_modules" / ".bin" / "configurable-http-proxy"
CHP = os.environ.get("LOSSLAB_CHP", str(DEFAULT_CHP))
PASSWORD = "class-password"
START_TIMEOUT_S = 60
SPAWN_TIMEOUT_S = 120
STOP_TIMEOUT_S = 15


class Hub:
    def __init__(self, state, memory_limit=None, extra_args=()):
        self.state = Path(state)
        self.password = PASSWORD
        self.admin_token = uuid.uuid4().hex
        self.run_id = uuid.uuid4().hex
        self.port, self.hub_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = self.state / "hub.log"
        self.memory_limit = memory_limit
        self.extra_args = list(extra_args)
        self.process = None

    # --- the hub process -----------------------------------------------------------------------
    def start(self):
        env = dict(
            os.environ,
            LOSSLAB_HUB_STATE=str(self.state),
            LOSSLAB_HUB_PASSWORD=self.password,
            LOSSLAB_HUB_ADMIN_TOKEN=self.admin_token,
            LOSSLAB_HUB_RUN=self.run_id,
            LOSSLAB_CHP=CHP,
        )
        env.pop("JUPYTER_CONFIG_PATH", None)  # the config sets the students' own
        if self.memory_limit:
            env["LOSSLAB_HUB_MEMORY_LIMIT"] = str(self.memory_limit)
        args = [
            sys.executable, "-m", "jupyterhub", "-f", str(CONFIG),
            f"--JupyterHub.bind_url={self.url}",
            f"--JupyterHub.hub_port={self.hub_port}",
            f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.proxy_api_port}",
            *self.extra_args,
        ]  # fmt: skip
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                args, cwd=self.state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with code {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "hub/api/", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterHub did not answer within {START_TIMEOUT_S} s:\n{self.log()}")

    def stop_hub_only(self):
        """Stop the hub process (SIGTERM, as a service manager would); the students' servers keep running
        (cleanup_servers is off), the proxy stops with the hub."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self):
        self.stop_hub_only()
        self.start()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # --- REST API and students ------------------------------------------------------------------
    def api(self, path, method="GET", json=None, token=None, expect=(200, 201, 202, 204)):
        """The hub's REST API (/hub/api/PATH) with the admin service's token (or `token`); parsed JSON."""
        response = requests.request(
            method,
            self.url + "hub/api/" + path,
            json=json,
            headers={"Authorization": f"token {token or self.admin_token}"},
            timeout=30,
        )
        if response.status_code not in expect:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}\n{self.log()[-3000:]}")
        return response.json() if response.content else None

    def ensure_user(self, user):
        if requests.get(self.url + f"hub/api/users/{user}", headers=self._admin(), timeout=30).status_code == 404:
            self.api(f"users/{user}", "POST")

    def start_server(self, user, timeout=SPAWN_TIMEOUT_S):
        """Start `user`'s server (creating the user if needed) and wait until it answers through the
        proxy; returns its URL. Already running: returns at once."""
        self.ensure_user(user)
        self.api(f"users/{user}/server", "POST", expect=(201, 202, 400))  # 400: already running
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api(f"users/{user}")
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                status = requests.get(self.user_url(user) + "api/status", headers=self._admin(), timeout=30)
                if status.status_code == 200:
                    return self.user_url(user)
            elif not model.get("pending") and not server:
                raise AssertionError(f"{user}'s server failed to start:\n{self.log()[-5000:]}")
            time.sleep(0.3)
        raise AssertionError(f"{user}'s server was not ready within {timeout} s:\n{self.log()[-5000:]}")

    def stop_server(self, user):
        self.api(f"users/{user}/server", "DELETE", expect=(202, 204, 400))
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while self.api(f"users/{user}").get("servers"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{user}'s server did not stop")
            time.sleep(0.3)

    def user_url(self, user):
        return f"{self.url}user/{user}/"

    def home(self, user):
        return self.state / "homes" / user

    def token_for(self, user, scopes=None, note="test"):
        """A new API token of `user`'s; without `scopes`, the user's default ones (their own server)."""
        self.ensure_user(user)
        body = {"note": note, "expires_in": 3600}
        if scopes is not None:
            body["scopes"] = list(scopes)
        return self.api(f"users/{user}/tokens", "POST", json=body)["token"]

    def login(self, user, password=None):
        """A requests.Session that logged in as `user` through the hub's login form (cookies set; the
        spawn it triggers is not waited for: call start_server)."""
        session = requests.Session()
        page = session.get(self.url + "hub/login", timeout=30)
        page.raise_for_status()
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
        form = {"username": user, "password": self.password if password is None else password}
        if xsrf:
            form["_xsrf"] = xsrf.group(1)
        response = session.post(self.url + "hub/login?next=", data=form, allow_redirects=False, timeout=30)
        if response.status_code != 302:
            raise AssertionError(f"login as {user} failed: {response.status_code}\n{response.text[:2000]}")
        return session

    def _admin(self):
        return {"Authorization": f"token {self.admin_token}"}

    # --- processes -------------------------------------------------------------------------------
    def processes(self):
        """Every live process of this hub: the hub itself and whatever carries its run id."""
        found = []
        for process in psutil.process_iter(["pid"]):
            try:
                if process.pid == os.getpid() or process.status() == psutil.STATUS_ZOMBIE:
                    continue
                if (self.process and process.pid == self.process.pid) or (
                    process.environ().get("LOSSLAB_HUB_RUN") == self.run_id
                ):
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def user_processes(self, user):
        """The live processes of `user`'s server and kernels (their environment names the user)."""
        mine = []
        for process in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                if process.environ().get("JUPYTERHUB_USER") == user:
                    mine.append(process)
        return mine

    def stop(self):
        """Kill the hub, its proxy, services, every student server and kernel; fail if any survives."""
        own_group = os.getpgrp()
        for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
            left = self.processes()
            if not left:
                break
            for group in {_pgid(p) for p in left} - {None, own_group}:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, sig)
            for process in left:  # one in our own group (never the case: belt and braces)
                if _pgid(process) == own_group:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        process.send_signal(sig)
            psutil.wait_procs(left, timeout=wait_s)
        if self.process:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT_S)  # reap it
        survivors = self.processes()
        if survivors:
            raise AssertionError(f"processes left behind by the hub: {[(p.pid, p.name()) for p in survivors]}")


class KernelConnection:
    """A kernel of `user`'s reached as JupyterLab reaches it: REST and the kernel websocket through the
    hub's proxy, authenticated with `token`. A new kernel unless `kernel_id` is given."""

    def __init__(self, hub, user, token, kernel_id=None, timeout=60):
        self.base = hub.user_url(user)
        self.headers = {"Authorization": f"token {token}"}
        if kernel_id is None:
            response = requests.post(
                self.base + "api/kernels", json={"name": "python3"}, headers=self.headers, timeout=60
            )
            response.raise_for_status()
            kernel_id = response.json()["id"]
        self.id = kernel_id
        self.session = uuid.uuid4().hex
        ws_url = self.base.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels?session_id={self.session}"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=timeout)
        self.timeout = timeout

    def send(self, msg_type, content, channel="shell"):
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "session": self.session, "username": "", "version": "5.3"}
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": channel}
        self.ws.send(json.dumps(message))
        return msg_id

    def receive(self, timeout=None):
        """The next message from the kernel (a dict), or None if the server closed the websocket.

        Raises websocket.WebSocketTimeoutException when none comes within `timeout`: the server's pings,
        which websocket-client answers itself, do not restart the wait (with a plain recv() they did,
        and a kernel that never answered made a test wait for ever)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise websocket.WebSocketTimeoutException(f"no kernel message within {timeout or self.timeout} s")
            self.ws.settimeout(remaining)
            opcode, data = self.ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_TEXT:
                return json.loads(data)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return None

    def execute(self, code, timeout=None):
        """Run `code`; returns {"stdout", "stderr", "result", "error": (ename, evalue) or None, "statuses"}."""
        msg_id = self.send("execute_request", {"code": code, "silent": False, "store_history": True})
        out = {"stdout": "", "stderr": "", "result": None, "error": None, "statuses": []}
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            message = self.receive(max(deadline - time.monotonic(), 0.1))
            if message is None:
                raise ConnectionError("the server closed the kernel websocket")
            if message["msg_type"] == "status":
                out["statuses"].append(message["content"]["execution_state"])
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                out[content["name"]] += content["text"]
            elif kind == "execute_result":
                out["result"] = content["data"].get("text/plain")
            elif kind == "error":
                out["error"] = (content["ename"], content["evalue"])
            elif kind == "status" and content["execution_state"] == "idle":
                return out
        raise TimeoutError(f"no reply to {code!r} within the timeout; so far: {out}")

    def model(self):
        """The server's view of this kernel: {"id", "execution_state", ...}."""
        response = requests.get(self.base + f"api/kernels/{self.id}", headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def close(self):
        self.ws.close()

    def shutdown(self):
        self.close()
        requests.delete(self.base + f"api/kernels/{self.id}", headers=self.headers, timeout=60)


def _pgid(process):
    try:
        return os.getpgid(process.pid)
    except ProcessLookupError:
        return None


@contextlib.contextmanager
def jupyterhub(state=None, memory_limit=None, extra_args=()):
    """A running JupyterHub (see the module's docstring); `state` defaults to a temporary folder."""
    with contextlib.ExitStack() as stack:
        if state is None:
            state = stack.enter_context(tempfile.TemporaryDirectory(prefix="losslab-hub-"))
        hub = Hub(state, memory_limit=memory_limit, extra_args=extra_args)
        try:
            hub.start()
            yield hub
        finally:
            hub.stop()
