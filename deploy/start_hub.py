"""`make hub`: a JupyterHub for a demo class on this machine (deploy/jupyterhub_config.py).

    python deploy/start_hub.py [--port 8000] [--keep-servers]

Starts the hub on http://127.0.0.1:PORT/, prints the address, the class password and how to stop it,
and runs until Ctrl-C. Its state (database, cookie secret, one home folder per student) is kept in
build/hub/, so stopping and starting again keeps every student's files; the hub's log is
build/hub/hub.log. Ctrl-C stops the hub and every student server; with --keep-servers it stops only the
hub, and the students' servers keep running until the next `make hub` finds them again (what a hub
restart looks like to a class, see docs/teaching-a-class.md).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
STATE = Path(os.environ.get("LOSSLAB_HUB_STATE", ROOT / "build" / "hub")).resolve()  # tests use their own
DEFAULT_CHP = ROOT / "build" / "hub-npm" / "node_modules" / ".bin" / "configurable-http-proxy"
# Every process the hub starts carries this in its environment (the config passes it on), so Ctrl-C can
# find the student servers and kernels, which JupyterHub starts in sessions of their own.
RUN_MARKER = f"make-hub {STATE}"


def port_is_free(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def wait_until_up(hub, url, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            sys.exit(f"JupyterHub exited with code {hub.returncode}: see {STATE / 'hub.log'}")
        try:
            with urllib.request.urlopen(url + "hub/api/", timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"JupyterHub did not answer within {timeout_s} s: see {STATE / 'hub.log'}")


def class_processes():
    """The live student servers, kernels and services of this hub (found by their RUN_MARKER)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.environ().get("LOSSLAB_HUB_RUN") == RUN_MARKER:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def stop_class():
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = class_processes()
        for process in left:
            try:
                os.killpg(os.getpgid(process.pid), sig)
            except ProcessLookupError:
                pass
        psutil.wait_procs(left, timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="where students connect (default 8000)")
    parser.add_argument("--keep-servers", action="store_true", help="Ctrl-C stops the hub only")
    args = parser.parse_args()
    if not port_is_free(args.port):
        sys.exit(f"port {args.port} is in use (another hub?): stop it, or choose another with --port")
    STATE.mkdir(parents=True, exist_ok=True)
    chp = os.environ.get("LOSSLAB_CHP", str(DEFAULT_CHP))
    if not os.access(chp, os.X_OK):
        sys.exit(f"configurable-http-proxy is not at {chp}: run `make hub`, which installs it")
    url = f"http://127.0.0.1:{args.port}/"
    env = dict(os.environ, LOSSLAB_HUB_STATE=str(STATE), LOSSLAB_CHP=chp, LOSSLAB_HUB_RUN=RUN_MARKER)
    env.pop("JUPYTER_CONFIG_PATH", None)  # the config gives the students the course's own
    password = env.setdefault("LOSSLAB_HUB_PASSWORD", "losslab-demo")  # the config's DEMO_PASSWORD
    command = [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG), f"--JupyterHub.bind_url={url}"]
    with open(STATE / "hub.log", "a") as log:
        hub = subprocess.Popen(
            command, cwd=STATE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_up(hub, url)
        print(f"\nThe class's JupyterHub is up: {url}")
        print(f"  log in with any user name and the class password: {password}")
        print("  the user name 'instructor' is the hub's admin (Admin page: every student's server)")
        print(f"  students' homes: {STATE / 'homes'}; the hub's log: {STATE / 'hub.log'}")
        what = "the hub (student servers keep running)" if args.keep_servers else "the hub and every student server"
        print(f"  Ctrl-C stops {what}\n")
        hub.wait()
        print(f"JupyterHub exited with code {hub.returncode}: see {STATE / 'hub.log'}")
    except KeyboardInterrupt:
        print("\nstopping the hub ...")
    finally:
        if hub.poll() is None:
            hub.terminate()
            try:
                hub.wait(timeout=15)
            except subprocess.TimeoutExpired:
                hub.kill()
        if not args.keep_servers:
            stop_class()
            print("stopped; the students' files stay in", STATE / "homes")


if __name__ == "__main__":
    main()
