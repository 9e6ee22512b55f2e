"""The class's JupyterHub (deploy/jupyterhub_config.py, as `make hub` runs it), tested for real: a hub,
its proxy and the students' JupyterLab servers on free localhost ports (tests/hub.py), stopped at the end
with a check that no process is left.

What a class needs from it: students log in and get their own JupyterLab with the course's settings;
no student reaches another's server, kernels or files; a hub restart loses nobody's work; a kernel that
dies is reported and restarts; a student who fills their kernel's memory is stopped by the per-student
limit with a clear error while the others keep working. Each test stops the servers it started and
checks their processes are gone.
"""

import contextlib
import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid

import nbformat
import psutil
import pytest
import requests
import websocket
from jupyterhub.traitlets import ByteSpecification

import course
from hub import CHP, CONFIG, KernelConnection, jupyterhub
from servers import ROOT, free_port
from test_server_config import LOG_LINE, server_side_nodelay


@pytest.fixture(scope="module")
def hub():
    with jupyterhub() as running:
        yield running


@pytest.fixture
def students(hub):
    """start(name) starts a student's server; at the end of the test each one is stopped, and every
    process of theirs (server, kernels) must be gone."""
    started = []

    def start(name):
        hub.start_server(name)
        started.append(name)
        return name

    yield start
    for name in started:
        hub.stop_server(name)
        _, alive = psutil.wait_procs(hub.user_processes(name), timeout=15)
        assert not alive, f"{name}'s processes outlived their server: {[p.cmdline() for p in alive]}"


def auth(token):
    return {"Authorization": f"token {token}"}


def server_process(hub, user):
    (server,) = [p for p in hub.user_processes(user) if "jupyterhub-singleuser" in " ".join(p.cmdline())]
    return server


def kernel_process(hub, user, kernel_id):
    (kernel,) = [p for p in hub.user_processes(user) if any(kernel_id in arg for arg in p.cmdline())]
    return kernel


def save_notebook(hub, user, token, path, source):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    body = {"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(notebook))}
    response = requests.put(hub.user_url(user) + f"api/contents/{path}", json=body, headers=auth(token), timeout=30)
    assert response.status_code in (200, 201), response.text
    return hub.home(user) / path


def test_a_student_logs_in_with_the_form_and_gets_jupyterlab_with_the_course_config(hub, students):
    with pytest.raises(AssertionError, match="login as mallory failed: 403"):
        hub.login("mallory", password="not the class password")
    session = hub.login("alice")
    session.get(hub.url + "hub/spawn", timeout=60)  # what the hub's home page button does
    students("alice")
    lab = session.get(hub.user_url("alice") + "lab", timeout=60)
    assert lab.status_code == 200 and lab.url == hub.user_url("alice") + "lab"
    assert "JupyterLab" in lab.text
    assert hub.home("alice").is_dir()

    # The course's jupyter-config/ is active in her server: its kernel websocket has TCP_NODELAY on,
    # read from outside the server on the socket that joins it to the proxy (tests/test_server_config.py).
    token = hub.token_for("alice")
    server = server_process(hub, "alice")
    (listening,) = [c.laddr.port for c in server.net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    (proxy,) = [p for p in hub.processes() if p.name() == "node"]

    def proxy_ports_to_server():
        return {
            c.laddr.port
            for c in proxy.net_connections("tcp")
            if c.raddr and c.raddr.port == listening and c.status == psutil.CONN_ESTABLISHED
        }

    kernel = KernelConnection(hub, "alice", token, kernel_id=None)
    before = proxy_ports_to_server() - {None}
    kernel.close()
    kernel = KernelConnection(hub, "alice", token, kernel_id=kernel.id)
    try:
        assert kernel.execute("print(6 * 7)")["stdout"] == "42\n"
        (websocket_port,) = proxy_ports_to_server() - before
        assert server_side_nodelay(server.pid, websocket_port) == 1
        assert LOG_LINE.format(kernel.id) in hub.log()
    finally:
        kernel.shutdown()


def test_the_login_page_and_the_hub_home_list_every_lessons_nbgitpuller_link(hub):
    links = course.hub_landing_html(hub_url="")
    login = requests.get(hub.url + "hub/login", timeout=30)
    assert login.status_code == 200 and links in login.content.decode("utf-8")
    home = hub.login("carol").get(hub.url + "hub/home", timeout=30)
    assert home.status_code == 200 and links in home.content.decode("utf-8")
    for lesson in course.lessons():
        assert html.escape(course.nbgitpuller_url(lesson.path, hub_url="")) in links


def test_a_students_token_and_cookie_cannot_reach_another_students_server_kernels_or_files(hub, students):
    students("alice"), students("bob")
    alice_token, bob_token = hub.token_for("alice"), hub.token_for("bob")
    (hub.home("alice") / "answers.txt").write_text("alice's answer")
    kernel = KernelConnection(hub, "alice", alice_token)
    kernel.close()
    alice = hub.user_url("alice")
    paths = ["api/status", "api/kernels", f"api/kernels/{kernel.id}", "api/contents/answers.txt", "files/answers.txt"]
    try:
        # Control: alice herself reaches all of it.
        for path in paths:
            assert requests.get(alice + path, headers=auth(alice_token), timeout=30).status_code == 200, path
        # Bob's token: 403 on every one, no redirect.
        for path in paths:
            response = requests.get(alice + path, headers=auth(bob_token), allow_redirects=False, timeout=30)
            assert response.status_code == 403, (path, response.status_code, response.headers.get("Location"))
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            KernelConnection(hub, "alice", bob_token, kernel_id=kernel.id)
        assert refused.value.status_code == 403
        deleted = requests.delete(alice + "api/contents/answers.txt", headers=auth(bob_token), timeout=30)
        assert deleted.status_code == 403

        # Bob's browser (logged in, his own server open): following every redirect ends in a 403 from
        # the hub, never in a page of alice's server.
        session = hub.login("bob")
        assert session.get(hub.user_url("bob") + "lab", timeout=60).status_code == 200
        for path in ["lab", "tree", *paths]:
            response = session.get(alice + path, timeout=30)
            assert response.status_code == 403, (path, response.status_code, response.url)
            assert all(not r.url.startswith(alice) or r.status_code in (302, 403) for r in response.history)
        assert (hub.home("alice") / "answers.txt").read_text() == "alice's answer"
    finally:
        requests.delete(alice + f"api/kernels/{kernel.id}", headers=auth(alice_token), timeout=60)


def test_restarting_the_hub_keeps_student_servers_and_their_work(hub, students):
    students("carol")
    token = hub.token_for("carol")
    session = hub.login("carol")
    assert session.get(hub.user_url("carol") + "lab", timeout=60).status_code == 200
    kernel = KernelConnection(hub, "carol", token)
    kernel.execute("answer = 6 * 7")
    kernel.close()
    notebook = save_notebook(hub, "carol", token, "work.ipynb", "answer = 6 * 7")
    saved = notebook.read_bytes()
    server_pid = server_process(hub, "carol").pid

    hub.restart()

    assert server_process(hub, "carol").pid == server_pid, "the restart started a new server"
    # Her browser session, her token and her kernel's state all survive.
    assert session.get(hub.user_url("carol") + "lab", timeout=60).status_code == 200
    kernel = KernelConnection(hub, "carol", token, kernel_id=kernel.id)
    try:
        assert kernel.execute("print(answer)")["stdout"] == "42\n"
    finally:
        kernel.shutdown()
    assert notebook.read_bytes() == saved


def test_a_killed_kernel_is_reported_restarts_and_reruns_with_the_saved_notebook_intact(hub, students):
    students("dave")
    token = hub.token_for("dave")
    source = "def double(x):\n    return 2 * x"
    notebook = save_notebook(hub, "dave", token, "lecture.ipynb", source)
    saved = notebook.read_bytes()
    kernel = KernelConnection(hub, "dave", token, timeout=120)
    try:
        kernel.execute(source)
        assert kernel.execute("print(double(21))")["stdout"] == "42\n"

        kernel_process(hub, "dave", kernel.id).kill()  # the kernel dies in the middle of the lecture
        # The server tells the notebook (JupyterLab shows "Kernel Restarting: the kernel appears to have
        # died") and restarts it by itself.
        states = []
        deadline = time.monotonic() + 60
        while "restarting" not in states and time.monotonic() < deadline:
            message = kernel.receive(timeout=60)
            if message and message["msg_type"] == "status":
                states.append(message["content"]["execution_state"])
        assert "restarting" in states, states
        # Let the server's own restart finish first: a second restart on top of it races for the kernel's
        # ports ("Address already in use") and can leave no kernel at all.
        deadline = time.monotonic() + 60
        while kernel.model()["execution_state"] != "idle" and time.monotonic() < deadline:
            time.sleep(0.5)

        # The student restarts the kernel and re-runs the notebook: it works again, from a fresh state.
        # (Until the server's own restart is done, a restart request fails with 500: the student's
        # click comes seconds later, the test retries.)
        deadline = time.monotonic() + 120
        while True:
            restarted = requests.post(
                hub.user_url("dave") + f"api/kernels/{kernel.id}/restart", headers=auth(token), timeout=120
            )
            if restarted.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert restarted.status_code == 200, restarted.text + hub.log()[-6000:]
        kernel.close()
        kernel = KernelConnection(hub, "dave", token, kernel_id=kernel.id, timeout=120)
        assert kernel.execute("print(double(21))")["error"][0] == "NameError"
        kernel.execute(source)
        assert kernel.execute("print(double(21))")["stdout"] == "42\n"
        assert kernel.model()["execution_state"] == "idle"
    finally:
        kernel.shutdown()
    assert notebook.read_bytes() == saved


def test_a_student_filling_memory_is_stopped_by_the_limit_while_another_keeps_working(hub, students):
    students("erin"), students("frank")
    default_limit = re.search(r'DEFAULT_MEMORY_LIMIT = "(\w+)"', CONFIG.read_text()).group(1)
    limit = ByteSpecification().validate(None, default_limit)
    erin = KernelConnection(hub, "erin", hub.token_for("erin"), timeout=120)
    frank = KernelConnection(hub, "frank", hub.token_for("frank"))
    try:
        erin.execute("import torch")
        # The limit is on her server and on the kernel it started (inherited), as RLIMIT_DATA.
        for process in (server_process(hub, "erin"), kernel_process(hub, "erin", erin.id)):
            assert process.rlimit(psutil.RLIMIT_DATA) == (limit, limit)

        # Erin's loop keeps allocating 100 MB tensors; meanwhile frank's kernel keeps answering.
        result = {}
        runaway = threading.Thread(
            target=lambda: result.update(erin.execute("xs = []\nwhile True:\n    xs.append(torch.ones(25_000_000))"))
        )
        runaway.start()
        frank_latencies = []
        while runaway.is_alive():
            start = time.perf_counter()
            assert frank.execute("print(1 + 1)")["stdout"] == "2\n"
            frank_latencies.append(time.perf_counter() - start)
        runaway.join()
        ename, evalue = result["error"]
        assert ename == "RuntimeError" and "can't allocate memory" in evalue, result
        peak = kernel_process(hub, "erin", erin.id).memory_info().rss
        assert peak <= limit, f"erin's kernel holds {peak} bytes, over the {limit} limit"
        print(
            f"\nerin's kernel stopped at {peak / 2**20:.0f} MB resident (limit {default_limit});"
            f" frank's executes meanwhile: {len(frank_latencies)}, slowest {max(frank_latencies) * 1000:.0f} ms"
        )
        # Her kernel survives the error: freeing the tensors gives her a working kernel back.
        assert erin.execute("print(len(xs) > 0); del xs; print(torch.ones(3).sum().item())")["stdout"] == "True\n3.0\n"
        assert requests.get(hub.user_url("frank") + "api/status", headers=auth(hub.admin_token), timeout=30).ok
    finally:
        erin.shutdown()
        frank.shutdown()


def test_make_hub_prints_the_address_and_password_and_ctrl_c_stops_every_student_server(tmp_path):
    """deploy/start_hub.py as `make hub` runs it (state in tmp_path instead of build/hub/)."""
    port, token = free_port(), uuid.uuid4().hex
    env = dict(os.environ, LOSSLAB_HUB_STATE=str(tmp_path), LOSSLAB_HUB_ADMIN_TOKEN=token, LOSSLAB_CHP=CHP)
    command = [sys.executable, str(ROOT / "deploy" / "start_hub.py"), "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    marker = f"make-hub {tmp_path.resolve()}"

    def class_processes():
        found = []
        for candidate in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if candidate.status() != psutil.STATUS_ZOMBIE and candidate.environ().get("LOSSLAB_HUB_RUN") == marker:
                    found.append(candidate)
        return found

    try:
        banner = ""
        while "Ctrl-C" not in banner:
            line = process.stdout.readline()
            assert line, f"start_hub.py exited early:\n{banner}"
            banner += line
        assert f"http://127.0.0.1:{port}/" in banner and "losslab-demo" in banner, banner
        api, headers = f"http://127.0.0.1:{port}/hub/api/", auth(token)
        assert requests.post(api + "users/zoe", headers=headers, timeout=30).status_code == 201
        assert requests.post(api + "users/zoe/server", headers=headers, timeout=60).status_code in (201, 202)
        deadline = time.monotonic() + 120
        while (
            not requests.get(api + "users/zoe", headers=headers, timeout=30).json()["servers"].get("", {}).get("ready")
        ):
            assert time.monotonic() < deadline, "zoe's server did not start"
            time.sleep(0.3)
        assert any("jupyterhub-singleuser" in " ".join(p.cmdline()) for p in class_processes())

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(class_processes(), timeout=10)
        assert not alive, f"left behind by make hub: {[p.cmdline() for p in alive]}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for leftover in class_processes():
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                os.killpg(os.getpgid(leftover.pid), signal.SIGKILL)
