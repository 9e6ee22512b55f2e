"""Jupyter server settings for losslab: `make lab` and Binder put this folder on JUPYTER_CONFIG_PATH.

Kernel websockets without Nagle's algorithm. The server writes each kernel message to the browser
as its own small websocket frame and never sets TCP_NODELAY, so when a slider change produces a
few messages in a row (status busy, the new readout, status idle), the kernel's TCP stack holds the
later ones back until the browser acknowledges the first, and the browser delays that
acknowledgement by up to 40 ms: measured here, 48 ms median from a slider change to the readout's
update with stock JupyterLab 4.6, 9 ms with TCP_NODELAY on the kernel websocket.

The hook is `ServerApp.kernel_websocket_connection_class`, the server's documented setting for the
object that joins a kernel to a browser websocket: ours is the stock class that first switches
Nagle off on its websocket through tornado's public `WebSocketHandler.set_nodelay`. It reads the
option back from the socket and logs it (tests/test_server_config.py checks that line, and the
option itself from outside the server).
"""

import socket

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection


class NoDelayKernelWebsocketConnection(ZMQChannelsWebsocketConnection):
    """The stock kernel websocket connection, with TCP_NODELAY set on the websocket before it is used."""

    def connect(self):
        handler = self.websocket_handler
        handler.set_nodelay(True)
        stream = handler.ws_connection.stream if handler.ws_connection else None
        sock = stream.socket if stream else None
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            self.log.info("losslab: kernel %s websocket TCP_NODELAY=%d", self.kernel_id, nodelay)
        return super().connect()


c.ServerApp.kernel_websocket_connection_class = NoDelayKernelWebsocketConnection  # noqa: F821 (c is the config)


# nbgrader (installed for the instructor's grading, `make assignments`) enables its server extensions in
# every Jupyter server of this environment: the formgrader, which grades the whole class's submissions,
# and the assignment and course lists of nbgrader's exchange, which this course does not use (students get
# the notebooks through nbgitpuller links). A learner's server runs none of them; labconfig/page_config.json
# hides nbgrader's JupyterLab extension to match. The instructor puts deploy/nbgrader/instructor/ in front:
#     JUPYTER_CONFIG_PATH=deploy/nbgrader/instructor:jupyter-config .venv/bin/jupyter lab
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
c.ServerApp.jpserver_extensions.update({name: False for name in NBGRADER_SERVER_EXTENSIONS})  # noqa: F821
