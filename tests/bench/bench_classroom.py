"""A class on a real JupyterHub: N students log in, start their servers, open notebook 01 and drag a slider
of its first explorer all at once. Run with `make bench-classroom` (5, then 20 students).

Each simulated student does what a browser does, one asyncio task per student in this process: the hub's
login form, the spawn (/hub/spawn/NAME, then the progress event stream the spawn page reads), JupyterLab's
page through the proxy (the OAuth handshake that gives the student's server its cookie), a kernel session
for the notebook and its websocket (/user/NAME/api/kernels/ID/channels), the notebook's code cells in order
up to the first one that displays a widget (the explorer), with the kernel's widget models tracked as
JupyterLab's widget manager does (tests/bench/notebook_client.py). Then every student changes the
explorer's first slider every 200 ms for 30 s, all at the same time (each with its own phase in the 200 ms,
as people do not drag in step; --in-step moves them together). A move is sent as JupyterLab's widget
manager sends it: a comm "update", at most one in flight per slider, later moves waiting for the kernel's
"idle" and replacing each other meanwhile (--no-throttle sends every move at once instead). Each move is
timed from the student's move to the readout's update that shows it (or a later position) arriving back;
a move never followed by a readout update is lost. The baseline, in the same run: one student alone,
through the same hub, before the load.

Printed: spawn time, login to first readout, latency (alone and under load), changes lost or failed, peak
memory of the hub, the proxy and each student (server + kernel, sampled from /proc), CPU use per
component, and a verdict per target. Exits 1 if a target is missed.
"""

import argparse
import asyncio
import json
import random
import re
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import aiohttp
import psutil
from yarl import URL

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from hub import ROOT, jupyterhub  # noqa: E402  (tests/hub.py: a real JupyterHub from deploy/)
from notebook_client import NotebookClient  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "01_logits_and_softmax.ipynb"
PACKAGE = ROOT / "notebooks" / "losslab"
CHANGE_EVERY_S = 0.2
LOAD_S = 30.0  # --seconds
BASELINE_S = 10.0
DRAIN_S = 15.0  # after the last change: a readout later than this counts as lost
SAMPLE_EVERY_S = 1.0  # RSS and CPU counters (/proc/PID/stat and statm: cheap)
# PSS comes from /proc/PID/smaps_rollup, for which the kernel walks every page of the process: once a second
# for 20 students' 40 processes (9 GB) that took 0.2 of the 2 cores this benchmark measures. Memory changes
# slowly; every 10 s is enough.
PSS_EVERY_S = 10.0
P95_TARGET_MS = 100.0
MEMORY_TARGET_MB = 500.0
MB = 2**20
LOG_DIR = ROOT / "build" / "bench-classroom"


# --- one student ---------------------------------------------------------------------------------
class Student:
    def __init__(self, hub, name):
        self.hub, self.name = hub, name
        self.base = hub.url.rstrip("/")
        self.error = None  # why this student was not served
        self.http = self.client = None

    async def arrive(self, code_cells):
        """Log in, start the server, open the notebook, run it to its explorer: what a student does at the
        start of the lecture. Times are kept on self."""
        # Cookies for 127.0.0.1 need an "unsafe" jar: aiohttp keeps none for IP addresses by default.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.login_at = time.perf_counter()
        await self.log_in()
        spawn_at = time.perf_counter()
        await self.spawn()
        self.spawn_s = time.perf_counter() - spawn_at
        xsrf = await self.open_lab()
        server_url = f"{self.base}/user/{self.name}/"
        self.client = NotebookClient(self.http, server_url, headers={"X-XSRFToken": xsrf}, origin=self.base)
        await self.client.open(NOTEBOOK.name)
        self.explorer = await self.client.run_to_first_widget(code_cells)
        self.first_readout_s = self.client.first_readout_at - self.login_at

    async def log_in(self):
        async with self.http.get(f"{self.base}/hub/login") as page:
            form = {"username": self.name, "password": self.hub.password}
            xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', await page.text())
            if xsrf:
                form["_xsrf"] = xsrf.group(1)
        async with self.http.post(f"{self.base}/hub/login?next=", data=form, allow_redirects=False) as response:
            if response.status != 302:
                raise RuntimeError(f"login: {response.status}")

    async def spawn(self):
        """The hub home page's "Start My Server", then the spawn page's wait on the progress event stream."""
        async with self.http.get(f"{self.base}/hub/spawn/{self.name}", allow_redirects=False) as response:
            if response.status not in (200, 302):
                raise RuntimeError(f"spawn: {response.status} {await response.text()}")
        progress = f"{self.base}/hub/api/users/{self.name}/server/progress"
        async with self.http.get(progress, headers=self._hub_xsrf()) as events:
            if events.status != 200:
                raise RuntimeError(f"spawn progress: {events.status} {await events.text()}")
            async for line in events.content:
                if line.startswith(b"data:"):
                    event = json.loads(line[5:])
                    if event.get("failed"):
                        raise RuntimeError(f"spawn failed: {event.get('message')}")
                    if event.get("ready"):
                        return
        raise RuntimeError("the spawn's progress stream ended before the server was ready")

    def _hub_xsrf(self):
        cookies = self.http.cookie_jar.filter_cookies(URL(f"{self.base}/hub/"))
        return {"X-XSRFToken": cookies["_xsrf"].value} if "_xsrf" in cookies else {}

    async def open_lab(self):
        """JupyterLab on the notebook, through the proxy: redirects through the hub's OAuth to the student's
        server, which sets its own cookie and _xsrf cookie. Returns the server's _xsrf token."""
        async with self.http.get(f"{self.base}/user/{self.name}/lab/tree/{NOTEBOOK.name}") as page:
            if page.status != 200:
                raise RuntimeError(f"JupyterLab page: {page.status}")
        cookies = self.http.cookie_jar.filter_cookies(URL(f"{self.base}/user/{self.name}/"))
        return cookies["_xsrf"].value

    async def drag(self, seconds, phase_s):
        """Change the slider every CHANGE_EVERY_S for `seconds`, starting `phase_s` into the first period."""
        values = slider_values(self.explorer.slider_state)
        first = len(self.client.changes)
        start = time.perf_counter() + phase_s
        for k in range(round(seconds / CHANGE_EVERY_S)):
            await asyncio.sleep(max(0.0, start + k * CHANGE_EVERY_S - time.perf_counter()))
            self.client.change(self.explorer.slider, values[k % len(values)])
        return self.client.changes[first:]

    async def leave(self):
        if self.client is not None:
            await self.client.close()
        if self.http is not None:
            await self.http.close()


def slider_values(state):
    """A sawtooth over the middle half of the slider's range, 5 steps apart: up, then back to the bottom in one
    jump. Every move changes the value, and so the readout (4 decimals); and a value comes back only after
    the whole tooth (4 s), so the position the widget manager sends after the kernel was busy is never the
    one the kernel already has (the kernel would then send no readout: nothing changed)."""
    low, high, step = state["min"], state["max"], state["step"]
    quarter = (high - low) / 4
    count = int(round((high - low) / 2 / (5 * step)))
    return [round(low + quarter + k * 5 * step, 6) for k in range(count + 1)]


async def drain(students):
    """Wait until every change has its readout, or DRAIN_S has passed."""
    deadline = time.perf_counter() + DRAIN_S
    while any(s.client.pending or s.client.buffered for s in students) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


# --- processes: memory and CPU of the hub's tree -------------------------------------------------
class Sampler(threading.Thread):
    """Samples every process of the hub every SAMPLE_EVERY_S: peak RSS per component ("hub", "proxy",
    "services", or a student's name: server plus kernels) and CPU seconds per component; PSS every
    PSS_EVERY_S."""

    def __init__(self, hub):
        super().__init__(daemon=True)
        self.hub = hub
        self.component = {}  # (pid, create time) -> component
        self.cpu = {}  # (pid, create time) -> latest user + system CPU seconds seen
        # RSS counts every page a process maps, so pages shared between processes (the libraries of torch,
        # Python, the venv, loaded once for the whole machine) count once per process; PSS divides each shared
        # page among the processes sharing it: what one more student costs the machine.
        self.peak_rss, self.peak_pss = {}, {}
        self.role = {}  # (pid, create time) -> "kernel" or "server" (a student's two) or "hub" (the rest)
        self.peak_role_rss = {}  # (component, role) -> peak RSS
        self.marks = {}
        self.stopping = threading.Event()
        self.me = psutil.Process()
        self.pss_at = -PSS_EVERY_S

    def run(self):
        while not self.stopping.wait(SAMPLE_EVERY_S):
            self.sample()

    def sample(self, memory=True):
        rss, pss = {}, {}
        with_pss = memory and time.perf_counter() - self.pss_at >= PSS_EVERY_S
        if with_pss:
            self.pss_at = time.perf_counter()
        try:
            root = psutil.Process(self.hub.process.pid)
            tree = [root, *root.children(recursive=True)]  # the proxy, culler and servers; kernels below those
        except psutil.NoSuchProcess:
            return
        for process in tree:
            try:
                key = (process.pid, process.create_time())
                if key not in self.component:
                    self.component[key] = self.classify(process)
                    command = " ".join(process.cmdline())
                    self.role[key] = (
                        "kernel" if "ipykernel" in command else "server" if "singleuser" in command else "-"
                    )
                times = process.cpu_times()
                self.cpu[key] = times.user + times.system
                name = self.component[key]
                if not memory:
                    continue
                usage = process.memory_full_info() if with_pss else process.memory_info()
                rss[name] = rss.get(name, 0) + usage.rss
                part = (name, self.role[key])
                self.peak_role_rss[part] = max(self.peak_role_rss.get(part, 0), usage.rss)
                if with_pss:
                    pss[name] = pss.get(name, 0) + usage.pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        for name in rss:
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss[name])
        for name in pss:
            self.peak_pss[name] = max(self.peak_pss.get(name, 0), pss[name])

    def classify(self, process):
        if process.pid == self.hub.process.pid:
            return "hub"
        user = process.environ().get("JUPYTERHUB_USER")
        if user:
            return user
        return "proxy" if "configurable-http-proxy" in " ".join(process.cmdline()) else "services"

    def mark(self, label):
        """Remember the CPU counters now (this process's and the machine's too) under `label`."""
        self.sample(memory=False)
        times = self.me.cpu_times()
        self.marks[label] = (time.perf_counter(), dict(self.cpu), times.user + times.system, psutil.cpu_times())

    def cpu_between(self, start, end):
        """({component or role: cores used on average, "all": the hub's whole tree}, this client's cores, other
        processes' cores, wall s)."""
        (t0, cpu0, me0, all0), (t1, cpu1, me1, all1) = self.marks[start], self.marks[end]
        wall = t1 - t0
        used = {}
        for key, seconds in cpu1.items():
            for name in (self.component[key], self.role[key]):  # e.g. "student01" and "kernel"
                used[name] = used.get(name, 0.0) + (seconds - cpu0.get(key, 0.0)) / wall
        busy = sum(getattr(all1, f) - getattr(all0, f) for f in ("user", "system", "nice", "irq", "softirq"))
        used["all"] = sum(used.get(role, 0.0) for role in ("kernel", "server", "-"))
        others = busy / wall - used["all"] - (me1 - me0) / wall
        return used, (me1 - me0) / wall, max(0.0, others), wall


# --- figures -------------------------------------------------------------------------------------
class Figures:
    """Latency over a list of Changes: median and p95 in ms of those with a readout, and the rest."""

    def __init__(self, changes):
        self.count = len(changes)
        self.sent = sum(c.sent for c in changes)
        self.failed = sum(c.error is not None for c in changes)
        timed = [c.latency_ms for c in changes if c.latency_ms is not None and c.error is None]
        self.lost = self.count - len(timed) - self.failed
        enough = len(timed) >= 2
        self.median = statistics.median(timed) if enough else float("nan")
        self.p95 = statistics.quantiles(timed, n=20)[-1] if enough else float("nan")


def code_cells():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def copy_course(home):
    """Notebook 01 and the losslab package it imports, in the student's home (what the nbgitpuller link puts
    there, minus the other notebooks)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTEBOOK, home)
    shutil.copytree(PACKAGE, home / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))


async def run_class(hub, sampler, options):
    names = [f"student{i:02d}" for i in range(1, options.students + 1)]
    for name in names:
        copy_course(hub.home(name))
    students = [Student(hub, name) for name in names]
    try:
        return await run_lecture(students, sampler, options)
    finally:
        for student in students:
            await student.leave()


async def run_lecture(students, sampler, options):
    cells = code_cells()
    sampler.mark("arrive")
    arrived = await asyncio.gather(*(s.arrive(cells) for s in students), return_exceptions=True)
    for student, outcome in zip(students, arrived, strict=True):
        if isinstance(outcome, BaseException):
            student.error = f"{type(outcome).__name__}: {outcome}"
    served = [s for s in students if s.error is None]
    sampler.mark("ready")
    result = {"students": students, "served": served}
    if not served:
        return result
    for student in served:
        student.client.throttle = not options.no_throttle
    # The baseline: one student alone, the others idle with their kernels open.
    alone = await served[0].drag(BASELINE_S, 0.0)
    await drain(served)
    result["baseline"] = Figures(alone)
    rng = random.Random(13)
    sampler.mark("load")
    phases = [0.0 if options.in_step else rng.uniform(0, CHANGE_EVERY_S) for _ in served]
    loaded = await asyncio.gather(*(s.drag(options.seconds, phase) for s, phase in zip(served, phases, strict=True)))
    sampler.mark("load end")
    await drain(served)
    result["load"] = Figures([change for changes in loaded for change in changes])
    result["per student"] = {s.name: Figures(changes) for s, changes in zip(served, loaded, strict=True)}
    return result


def mb(nbytes):
    return nbytes / MB


def report(result, sampler, options):
    """Print the figures and a verdict per target; True if every target is met."""
    students, served = result["students"], result["served"]
    print(f"\n== {options.students} students on a real JupyterHub, {psutil.cpu_count()} cores ==")
    for s in students:
        if s.error:
            print(f"  NOT SERVED {s.name}: {s.error}")
    if not served:
        print("every student served: MISSED (none was)")
        return False
    spawns = [s.spawn_s for s in served]
    firsts = [s.first_readout_s for s in served]
    used, client, others, wall = sampler.cpu_between("arrive", "ready")
    print(f"spawn (request to server ready): median {statistics.median(spawns):.1f} s, max {max(spawns):.1f} s")
    print(f"login to the explorer's first readout: median {statistics.median(firsts):.1f} s, max {max(firsts):.1f} s")
    print(f"  (all arriving at once: {wall:.0f} s, the hub's processes using {used['all']:.2f} cores, "
          f"other processes on the machine {others:.2f})")  # fmt: skip

    base, load = result["baseline"], result["load"]
    how = "every move sent at once" if options.no_throttle else "sent as JupyterLab's widget manager does"
    phase = "in step" if options.in_step else "each at its own phase"
    print(f"readout latency, from the move to the readout's update ({how}):")
    print(f"  1 student alone (the baseline, {BASELINE_S:.0f} s): median {base.median:.1f} ms, p95 {base.p95:.1f} ms")
    print(f"  {len(served)} students at once, a move every {CHANGE_EVERY_S * 1e3:.0f} ms for {options.seconds:.0f} s "
          f"({phase}): median {load.median:.1f} ms, p95 {load.p95:.1f} ms "
          f"= {load.median / base.median:.1f}x and {load.p95 / base.p95:.1f}x the baseline")  # fmt: skip
    worst = max(result["per student"].items(), key=lambda item: item[1].p95)
    print(f"  worst student's p95: {worst[1].p95:.1f} ms ({worst[0]})")
    print(f"  moves: {load.count}; sent to the kernel: {load.sent} (the others were replaced by a later position "
          f"while the kernel was still busy)")  # fmt: skip
    lost, failed = base.lost + load.lost, base.failed + load.failed
    print(f"moves lost (no readout within {DRAIN_S:.0f} s): {lost}; failed (an error from the kernel): {failed}")

    rss, pss = sampler.peak_rss, sampler.peak_pss
    student_rss = {s.name: mb(rss.get(s.name, 0)) for s in served}
    student_pss = [mb(pss.get(s.name, 0)) for s in served]
    servers = [mb(sampler.peak_role_rss.get((s.name, "server"), 0)) for s in served]
    kernels = [mb(sampler.peak_role_rss.get((s.name, "kernel"), 0)) for s in served]
    print(f"peak RSS: hub {mb(rss.get('hub', 0)):.0f} MB, proxy {mb(rss.get('proxy', 0)):.0f} MB, "
          f"idle culler {mb(rss.get('services', 0)):.0f} MB; per student (server + kernel): "
          f"median {statistics.median(student_rss.values()):.0f} MB, max {max(student_rss.values()):.0f} MB "
          f"(server {statistics.median(servers):.0f}, kernel {statistics.median(kernels):.0f}); "
          f"all students {sum(student_rss.values()) / 1024:.1f} GB")  # fmt: skip
    print("  per student: " + ", ".join(f"{name} {value:.0f}" for name, value in student_rss.items()))
    print(f"peak PSS (each shared page split among its processes: what one more student costs): "
          f"hub {mb(pss.get('hub', 0)):.0f} MB, proxy {mb(pss.get('proxy', 0)):.0f} MB, per student median "
          f"{statistics.median(student_pss):.0f} MB, max {max(student_pss):.0f} MB; "
          f"all students {sum(student_pss) / 1024:.1f} GB")  # fmt: skip
    used, client, others, wall = sampler.cpu_between("load", "load end")
    cores = [used.get(s.name, 0.0) for s in served]
    print(f"CPU during the drag ({wall:.0f} s), in cores of {psutil.cpu_count()}: the hub's processes "
          f"{used['all']:.2f} (hub {used.get('hub', 0):.2f}, proxy {used.get('proxy', 0):.2f}, students "
          f"{sum(cores):.2f}: median {statistics.median(cores):.3f} each; of the students', their servers "
          f"{used.get('server', 0):.2f}, their kernels {used.get('kernel', 0):.2f}); this benchmark's clients {client:.2f}; "
          f"other processes on the machine {others:.2f}")  # fmt: skip

    most_rss = max(student_rss.values())
    verdicts = {
        f"every student served ({len(served)} of {len(students)})": len(served) == len(students),
        f"0 moves lost ({lost})": lost == 0,
        f"0 moves failed ({failed})": failed == 0,
        f"p95 under load <= {P95_TARGET_MS:g} ms ({load.p95:.1f} ms)": load.p95 <= P95_TARGET_MS,
        f"<= {MEMORY_TARGET_MB:g} MB RSS per student ({most_rss:.0f} MB)": most_rss <= MEMORY_TARGET_MB,
    }
    for target, met in verdicts.items():
        print(f"{target}: {'met' if met else 'MISSED'}")
    return all(verdicts.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=LOAD_S, help="how long the whole class drags")
    parser.add_argument("--in-step", action="store_true", help="every student moves the slider at the same instant")
    parser.add_argument(
        "--no-throttle", action="store_true", help="send every move at once, even while the kernel is busy"
    )
    options = parser.parse_args()
    start = time.perf_counter()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"hub-{options.students}-students.log"
    with jupyterhub() as hub:
        sampler = Sampler(hub)
        sampler.start()
        try:
            result = asyncio.run(run_class(hub, sampler, options))
        finally:
            sampler.stopping.set()
            sampler.join()
            log.write_text(hub.log())  # the hub's, the proxy's and every student server's and kernel's output
        ok = report(result, sampler, options)
    # jupyterhub() has killed the hub's processes and fails if any survived; check once more from here.
    left = [key for key in sampler.component if _alive(key)]
    names = [psutil.Process(key[0]).name() for key in left]
    print(f"processes left after stopping the hub: {len(left)} {names} (hub log: {log.relative_to(ROOT)})")
    print(f"({time.perf_counter() - start:.0f} s)")
    sys.exit(0 if ok and not left else 1)


def _alive(key):
    """Whether the process (pid, create time) still runs."""
    try:
        process = psutil.Process(key[0])
        return process.create_time() == key[1] and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


if __name__ == "__main__":
    main()
