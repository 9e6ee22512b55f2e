"""The shipped server configuration (jupyter-config/) switches Nagle's algorithm off on kernel websockets,
and its JupyterLab settings show the kernel's busy/idle indicator in the status bar.

A real `jupyter server` is started with and without it; a kernel websocket is opened as JupyterLab
opens one, and the server's end of that TCP connection is inspected from outside the server (the
test duplicates the server's socket descriptor with pidfd_getfd and reads TCP_NODELAY). Without the
configuration the option must be off: that is what shows the check can see the difference. If a
Jupyter server or tornado upgrade stops the hook from running, or from taking effect, these fail.
"""

import ctypes
import json
import os
import socket
import uuid

import pytest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

from servers import ROOT, jupyter_server

SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture
LOG_LINE = "losslab: kernel {} websocket TCP_NODELAY=1"


def open_kernel_websocket(server, kernel_id):
    """Connect to the kernel's channels and wait for a kernel_info reply; return the client websocket."""

    async def connect():
        session = uuid.uuid4().hex
        ws = await websocket_connect(
            f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={session}"
        )
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "kernel_info_request",
            "session": session,
            "username": "test",
            "version": "5.3",
        }
        await ws.write_message(
            json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"})
        )
        while True:
            message = await ws.read_message()
            assert message is not None, f"the server closed the websocket:\n{server.log()}"
            if isinstance(message, str) and json.loads(message)["parent_header"].get("msg_id") == msg_id:
                reply = json.loads(message)
                if reply["msg_type"] == "kernel_info_reply":
                    return ws

    return IOLoop.current().run_sync(connect, timeout=60)


def server_side_nodelay(server_pid, client_port):
    """TCP_NODELAY of the server's socket whose peer is our client's local port, read from outside."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(server_pid)
    try:
        for name in os.listdir(f"/proc/{server_pid}/fd"):
            if not os.readlink(f"/proc/{server_pid}/fd/{name}").startswith("socket:"):
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                errno = ctypes.get_errno()
                pytest.fail(f"pidfd_getfd on the server's socket failed: {os.strerror(errno)}")
            with socket.socket(fileno=fd) as sock:
                if sock.family != socket.AF_INET or sock.type != socket.SOCK_STREAM:
                    continue
                try:
                    peer = sock.getpeername()
                except OSError:  # the listening socket
                    continue
                if peer == ("127.0.0.1", client_port):
                    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        os.close(pidfd)
    raise AssertionError(f"no server socket is connected to the client's port {client_port}")


@pytest.mark.parametrize("nodelay", [True, False], ids=["with-course-config", "stock"])
def test_kernel_websocket_nodelay_is_set_only_by_the_course_config(tmp_path, nodelay):
    with jupyter_server(tmp_path, course_config=nodelay) as server:
        kernel_id = server.api("api/kernels", "POST", {"name": "python3"})["id"]
        ws = open_kernel_websocket(server, kernel_id)
        try:
            client_port = ws.protocol.stream.socket.getsockname()[1]
            assert server_side_nodelay(server.process.pid, client_port) == int(nodelay)
            assert (LOG_LINE.format(kernel_id) in server.log()) == nodelay, server.log()
        finally:
            ws.close()


@pytest.mark.parametrize("course_config", [True, False], ids=["with-course-config", "stock"])
def test_the_kernel_status_indicator_is_in_the_status_bar_only_with_the_course_config(tmp_path, course_config):
    """In the notebook toolbar, every busy/idle change of the indicator makes the toolbar re-measure its
    items with a forced layout of the page, measured at 2-3 ms of each widget change's latency in the
    browser. JupyterLab serves the course's setting as the setting's default (a user can still change it)."""
    with jupyter_server(tmp_path, app="lab", course_config=course_config) as server:
        setting = server.api("lab/api/settings/@jupyterlab/notebook-extension:tracker")
    kernel_status = setting["schema"]["properties"]["kernelStatus"]["default"]
    assert kernel_status["showOnStatusBar"] is course_config
    assert kernel_status["showProgress"] is True


def test_make_lab_and_binder_use_the_course_config():
    makefile = (ROOT / "Makefile").read_text()
    assert "JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config" in makefile
    start = ROOT / "binder" / "start"
    assert os.access(start, os.X_OK), "binder/start must be executable (repo2docker runs it)"
    text = start.read_text()
    assert "jupyter-config" in text and "JUPYTER_CONFIG_PATH" in text
    assert text.rstrip().endswith('exec "$@"'), "binder/start must end by running the command it was given"
