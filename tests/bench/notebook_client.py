"""A notebook frontend without a browser: what JupyterLab and its widget manager do over HTTP and the
kernel websocket, enough to run a notebook's cells and drag a slider of one of its explorers.

    client = NotebookClient(http, "http://127.0.0.1:PORT/user/ada/", headers={"X-XSRFToken": xsrf})
    await client.open("01_logits_and_softmax.ipynb")  # a kernel session, then its websocket
    explorer = await client.run_to_first_widget(code_cells)
    client.change(explorer.slider, 1.5)  # a comm "update", sent (or buffered) as the widget manager does
    ...
    client.changes                       # every move: when made, when its readout came back

Messages use the kernel websocket protocol JupyterLab 4 asks for, "v1.kernel.websocket.jupyter.org": every
message is one binary frame (the number of offsets, the offsets, then the channel, header, parent header,
metadata, content and buffers), which the server passes between the websocket and the kernel's ZeroMQ
sockets without decoding it. (With the older unnamed protocol the server decodes and re-encodes the JSON of
every message: about a quarter more CPU per slider move in the student's server than a browser costs.)
"""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_TARGET = "jupyter.widget"
CELL_TIMEOUT_S = 300  # one cell, under a whole class starting at once on two cores


class KernelError(RuntimeError):
    pass


@dataclass
class Change:
    """One move of the slider: `moved` and `readout_at` are time.perf_counter() values."""

    value: float
    moved: float  # when the student moved the slider
    readout_at: float | None = None  # when the readout showed this value's numbers, or a later value's
    sent: bool = False  # False: replaced by a later value before it could be sent (see NotebookClient.change)
    error: str | None = None  # an error or stderr the kernel sent back for the message that carried it

    @property
    def latency_ms(self):
        return None if self.readout_at is None else (self.readout_at - self.moved) * 1e3


@dataclass
class Explorer:
    """The widget models of the first explorer the notebook displays (comm ids)."""

    view: str  # the displayed box
    slider: str  # its first slider
    readout: str  # its readout (HTML with the CSS class "losslab-readout")
    slider_state: dict = field(default_factory=dict)


def _ws_url(http_url):
    return "ws" + http_url[len("http") :]


KERNEL_WS_PROTOCOL = "v1.kernel.websocket.jupyter.org"
MESSAGE_PARTS = ("header", "parent_header", "metadata", "content")


def encode_v1(channel, message):
    """One binary frame of the v1 protocol: 8-byte little-endian offsets, then the channel and the parts."""
    parts = [channel.encode(), *(json.dumps(message[name]).encode() for name in MESSAGE_PARTS)]
    offsets = [8 * (len(parts) + 2)]  # the count, one offset per part and the end: where the channel starts
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join([len(offsets).to_bytes(8, "little"), *(o.to_bytes(8, "little") for o in offsets), *parts])


def decode_v1(frame):
    """A kernel message from a v1 frame (its buffers, a chart's PNG, are not needed here)."""
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    parts = [frame[offsets[i] : offsets[i + 1]] for i in range(1, 1 + len(MESSAGE_PARTS))]
    message = {name: json.loads(part) for name, part in zip(MESSAGE_PARTS, parts, strict=True)}
    message["channel"] = frame[offsets[0] : offsets[1]].decode()
    return message


class NotebookClient:
    def __init__(self, http, server_url, headers=None, origin=None):
        self.http = http  # an aiohttp.ClientSession carrying the user's cookies, if any
        self.server_url = server_url  # ends with "/": the single-user server's base URL
        self.headers = dict(headers or {})
        self.origin = origin  # sent on the websocket as a browser does (the server checks it against Host)
        self.session_id = uuid.uuid4().hex
        self.models = {}  # comm id -> the widget model's state, kept up to date as a widget manager does
        self.replies = {}  # execute msg id -> future of its execute_reply content
        self.idle = {}  # execute msg id -> future set when the kernel reports idle after it
        self.views = {}  # execute msg id -> model ids of widget views in its outputs
        self.changes = []
        self.pending = {}  # update msg id -> the Changes it carries, awaiting their readout
        self.in_flight = None  # the update msg id the kernel has not reported idle after yet
        self.buffered = []  # Changes made while an update was in flight (the last one's value is sent)
        self.throttle = True
        self.readout_id = None
        self.valued_at = {}  # comm id -> when the model first had a non-empty "value" (the first readout)
        self.ws = None
        self.reader = None

    async def open(self, path, kernel_name="python3"):
        """Create a kernel session for the notebook at `path` (as opening it in JupyterLab does) and connect
        to its kernel's websocket."""
        body = {"path": path, "name": path.rsplit("/", 1)[-1], "type": "notebook", "kernel": {"name": kernel_name}}
        async with self.http.post(self.server_url + "api/sessions", json=body, headers=self.headers) as response:
            if response.status != 201:
                raise KernelError(f"POST api/sessions: {response.status} {await response.text()}")
            self.kernel_id = (await response.json())["kernel"]["id"]
        url = _ws_url(self.server_url) + f"api/kernels/{self.kernel_id}/channels?session_id={self.session_id}"
        self.ws = await self.http.ws_connect(
            url, headers=self.headers, origin=self.origin, max_msg_size=0, protocols=(KERNEL_WS_PROTOCOL,)
        )
        if self.ws.protocol != KERNEL_WS_PROTOCOL:
            raise KernelError(f"the server did not accept {KERNEL_WS_PROTOCOL} (got {self.ws.protocol!r})")
        self.reader = asyncio.create_task(self._read())

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()

    def _send(self, channel, msg_type, content):
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "username": "", "session": self.session_id,
                  "date": "", "version": "5.3"}  # fmt: skip
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
        # send_bytes only queues the frame and writes it when the socket can take it: the send is not awaited
        # so that `sent` times stay 200 ms apart; a failure shows in the reader.
        asyncio.ensure_future(self.ws.send_bytes(encode_v1(channel, message)))
        return msg_id

    async def execute(self, code):
        """Run `code` as a cell; returns the widget view model ids among its outputs. Raises on an error."""
        msg_id = self._send("shell", "execute_request", {"code": code, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})  # fmt: skip
        loop = asyncio.get_running_loop()
        self.replies[msg_id], self.idle[msg_id] = loop.create_future(), loop.create_future()
        self.views[msg_id] = []
        # The reply (shell channel) may overtake the outputs (iopub): the cell is done when both the reply
        # and the kernel's "idle" status for it have arrived, as JupyterLab waits for.
        reply, _ = await asyncio.wait_for(asyncio.gather(self.replies[msg_id], self.idle[msg_id]), CELL_TIMEOUT_S)
        del self.replies[msg_id], self.idle[msg_id]
        if reply["status"] != "ok":
            raise KernelError(f"{reply.get('ename')}: {reply.get('evalue')} in\n{code}")
        return self.views.pop(msg_id)

    async def run_to_first_widget(self, code_cells):
        """Run the cells in order until one displays a widget view; the explorer it shows."""
        for code in code_cells:
            views = await self.execute(code)
            if views:
                return self.explorer(views[0])
        raise KernelError("no cell displayed a widget")

    def explorer(self, view_id):
        """The first slider and the readout inside the widget box `view_id`, found through the models'
        children as the widget manager resolves them ("IPY_MODEL_<id>")."""
        inside = list(self._walk(view_id))
        sliders = [m for m in inside if self.models[m]["_model_name"] == "FloatSliderModel"]
        readouts = [m for m in inside if "losslab-readout" in self.models[m].get("_dom_classes", [])]
        if not sliders or not readouts:
            raise KernelError(f"widget {view_id} has no slider or no readout")
        self.readout_id = readouts[0]
        return Explorer(view_id, sliders[0], readouts[0], dict(self.models[sliders[0]]))

    def _walk(self, model_id):
        yield model_id
        for child in self.models[model_id].get("children", []):
            yield from self._walk(child.removeprefix("IPY_MODEL_"))

    def change(self, slider_id, value):
        """Move the slider to `value`, as JupyterLab's widget manager (@jupyter-widgets/base 8) syncs it: a
        comm message "update" with the new state; while an earlier update is still being handled (no "idle"
        status from the kernel for it yet), the new state waits in a buffer, each further move replacing it,
        and goes as soon as the kernel is idle again. A student dragging on a busy kernel thus skips
        positions instead of queueing them. With `throttle = False`, every move is sent at once."""
        change = Change(value, time.perf_counter())
        self.changes.append(change)
        self.models[slider_id]["value"] = value
        if self.throttle and self.in_flight is not None:
            self.buffered.append(change)
        else:
            self._send_update(slider_id, [change])
        self.slider_id = slider_id
        return change

    def _send_update(self, slider_id, changes):
        state = {"value": changes[-1].value}
        content = {"comm_id": slider_id, "data": {"method": "update", "state": state, "buffer_paths": []}}
        msg_id = self._send("shell", "comm_msg", content)
        for change in changes:
            change.sent = change is changes[-1]
        self.pending[msg_id] = changes
        self.in_flight = msg_id

    async def _read(self):
        async for frame in self.ws:
            if frame.type == aiohttp.WSMsgType.BINARY:
                self._handle(decode_v1(frame.data))
        for future in [*self.replies.values(), *self.idle.values()]:  # closed: nothing more will come
            if not future.done():
                future.set_exception(KernelError(f"kernel websocket closed ({self.ws.close_code})"))

    def _note_value(self, comm_id):
        if self.models[comm_id].get("value") and comm_id not in self.valued_at:
            self.valued_at[comm_id] = time.perf_counter()

    @property
    def first_readout_at(self):
        """When the explorer's readout first showed numbers (time.perf_counter())."""
        return self.valued_at[self.readout_id]

    def _handle(self, msg):
        msg_type = msg["header"]["msg_type"]
        parent = msg["parent_header"].get("msg_id")
        content = msg["content"]
        if msg_type == "execute_reply" and parent in self.replies:
            _resolve(self.replies[parent], content)
        elif msg_type == "status" and content["execution_state"] == "idle" and parent in self.idle:
            _resolve(self.idle[parent], None)
        elif msg_type == "status" and content["execution_state"] == "idle" and parent == self.in_flight:
            self.in_flight = None
            if self.buffered:
                self._send_update(self.slider_id, self.buffered)
                self.buffered = []
        elif msg_type in ("display_data", "execute_result") and parent in self.views:
            if WIDGET_VIEW in content["data"]:
                self.views[parent].append(content["data"][WIDGET_VIEW]["model_id"])
        elif msg_type == "comm_open" and content["target_name"] == WIDGET_TARGET:
            self.models[content["comm_id"]] = dict(content["data"]["state"])
            self._note_value(content["comm_id"])
        elif msg_type == "comm_msg" and content["data"].get("method") == "update":
            comm_id = content["comm_id"]
            if comm_id in self.models:
                self.models[comm_id].update(content["data"]["state"])
                self._note_value(comm_id)
            if comm_id == self.readout_id:
                for change in self.pending.pop(parent, []):
                    change.readout_at = time.perf_counter()
        elif msg_type == "comm_close":
            self.models.pop(content["comm_id"], None)
        elif msg_type in ("error", "stream") and parent in self.pending:
            if msg_type == "error" or content.get("name") == "stderr":
                for change in self.pending[parent]:
                    change.error = content.get("text") or f"{content['ename']}: {content['evalue']}"


def _resolve(future, result):
    if not future.done():  # not given up on (a cell that timed out)
        future.set_result(result)
