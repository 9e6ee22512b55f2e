"""JupyterHub for a class taught from losslab, on one machine. `make hub` runs it (deploy/start_hub.py).

Read this file top to bottom: each section says what it does for the demo class and what to change for
a real one. docs/teaching-a-class.md has the whole story, and deploy/z2jh-values.yaml the same course on
Kubernetes (Zero to JupyterHub) for a class that outgrows one machine.

What the demo class is: anyone can log in with any user name and the shared password below
(DummyAuthenticator); each student gets their own JupyterLab server, started as a local process with its
own home folder (SimpleLocalProcessSpawner), running this repository's environment (.venv) with the
course's server settings (jupyter-config/: TCP_NODELAY on kernel websockets, the kernel status in the
status bar). Every student server may use at most MEMORY_LIMIT of memory per process (see "Memory and
CPU"), and servers idle for an hour are stopped (jupyterhub-idle-culler).

Environment variables (all optional; deploy/start_hub.py and the tests set them):
    LOSSLAB_HUB_STATE         the folder for the hub's database, cookie secret and the students' homes
                              (default build/hub/ in this repository)
    LOSSLAB_HUB_PASSWORD      the class's shared password (default: DEMO_PASSWORD below)
    LOSSLAB_HUB_MEMORY_LIMIT  the per-process memory limit of a student's server and kernels, e.g. 1G
                              (default DEFAULT_MEMORY_LIMIT below)
    LOSSLAB_CHP               the path of configurable-http-proxy (the Makefile installs it in build/)
    LOSSLAB_HUB_ADMIN_TOKEN   if set, registers the API token of a "losslab-admin" service that may
                              create users, start servers and mint tokens (the tests use it)
    LOSSLAB_HUB_RUN           if set, passed on to every process the hub starts (the tests look for
                              it to check that stopping a hub left no process behind)
Ports are the hub's usual command-line options: `--JupyterHub.bind_url=http://127.0.0.1:8000/`
(where students connect), `--JupyterHub.hub_port=8081` (the hub's own API, for the student servers) and
`--ConfigurableHTTPProxy.api_url=http://127.0.0.1:8001` (the proxy's API).
"""

import os
import resource
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner

c = get_config()  # noqa: F821 (JupyterHub provides get_config when it loads this file)

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent  # the hub runs from the course's .venv: students get the same one
STATE = Path(os.environ.get("LOSSLAB_HUB_STATE", ROOT / "build" / "hub")).resolve()
HOMES = STATE / "homes"
DEMO_PASSWORD = "losslab-demo"
DEFAULT_CHP = ROOT / "build" / "hub-npm" / "node_modules" / ".bin" / "configurable-http-proxy"
CHP = os.environ.get("LOSSLAB_CHP", str(DEFAULT_CHP))
RUN_MARKER = os.environ.get("LOSSLAB_HUB_RUN")
STATE.mkdir(parents=True, exist_ok=True)
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402 (tools/course.py: the course's links, made from course.toml)

# ---------------------------------------------------------------------------------------------------
# Where the hub listens and keeps its state. The demo listens on localhost only. For a real class, put
# the hub behind HTTPS (c.JupyterHub.ssl_key / ssl_cert, or a reverse proxy) and bind it to the
# machine's address, e.g. c.JupyterHub.bind_url = "https://0.0.0.0:443/".
c.JupyterHub.bind_url = "http://127.0.0.1:8000/"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [CHP]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# Restarting the hub (to change this file, or after a crash) must not stop the students' servers nor
# lose their work: the servers keep running, and the restarted hub finds them again from its database.
# The proxy is restarted with the hub and given their routes back.
c.JupyterHub.cleanup_servers = False

# ---------------------------------------------------------------------------------------------------
# Who may log in. The demo: any user name, one shared password, an admin called "instructor" (who sees
# every student's server on the hub's admin page). For a real class, replace this with your institution's
# login and a list of the class, for example:
#     c.JupyterHub.authenticator_class = "github"          # pip install oauthenticator
#     c.GitHubOAuthenticator.allowed_users = {"student1", ...}
# or "ldapauthenticator", or "nativeauthenticator" (students sign up, the instructor approves them).
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("LOSSLAB_HUB_PASSWORD", DEMO_PASSWORD)
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"instructor"}


# ---------------------------------------------------------------------------------------------------
# Memory and CPU. A local process spawner enforces no limit by itself (Spawner.mem_limit is only a
# number it passes on), so this one applies it as a resource limit: RLIMIT_DATA, set in the student's
# server process just before it starts (a preexec function) and inherited by every kernel the student
# opens. RLIMIT_DATA caps a process's private writable memory (heap, anonymous mmap: where tensors
# live); when a kernel reaches it, the allocation fails with an error the student sees in the notebook
# ("RuntimeError: DefaultCPUAllocator: can't allocate memory" from torch, MemoryError from Python or
# NumPy) and the kernel keeps running. It is not RLIMIT_AS on purpose: torch reserves far more address
# space than it uses, so an address-space limit fails imports long before memory is really used.
# The limit is per process, not a total per student: one student with three kernels may use three times
# it. Cgroups enforce a real per-student total: for that, use SystemdSpawner (c.SystemdSpawner.mem_limit)
# or DockerSpawner, or Kubernetes (deploy/z2jh-values.yaml).
# Measured here: a student's JupyterLab server has about 150 MB resident (150 MB of data); a kernel with
# torch, NumPy, matplotlib and ipywidgets imported about 280 MB resident (370 MB of data), and every
# course notebook runs top to bottom under a 512 MB limit, its kernel peaking at 350-370 MB resident.
# So a student uses about 500 MB (server and one kernel): plan the machine's RAM with that. The limit,
# 768 MB per process, leaves each kernel about 300 MB above the heaviest notebook for a student's own
# experiments, and stops a runaway loop at about 700 MB resident instead of letting it take the machine.
DEFAULT_MEMORY_LIMIT = "768M"
MEMORY_LIMIT = os.environ.get("LOSSLAB_HUB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


class CourseSpawner(SimpleLocalProcessSpawner):
    """SimpleLocalProcessSpawner (no system users, one home per student) that enforces mem_limit as
    RLIMIT_DATA on the student's server and its kernels."""

    def make_preexec_fn(self, name):
        enter_home = super().make_preexec_fn(name)
        limit = self.mem_limit

        def preexec():  # runs in the new process, between fork and exec
            enter_home()
            if limit:
                resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

        return preexec


# ---------------------------------------------------------------------------------------------------
# How each student's server starts. SimpleLocalProcessSpawner runs every student as the user who runs
# the hub, with no isolation between students' files beyond what the hub's authentication gives: fine
# for a demo on a laptop, NOT for a real class. For a real class on one machine, create a system user
# per student and use c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner" (pip install
# jupyterhub-systemdspawner), or "dockerspawner.DockerSpawner"; both also enforce mem_limit and
# cpu_limit with cgroups.
c.JupyterHub.spawner_class = CourseSpawner
c.CourseSpawner.home_dir_template = str(HOMES / "{username}")
c.Spawner.mem_limit = MEMORY_LIMIT
# cpu_limit: the local spawner cannot enforce it (SystemdSpawner and Kubernetes can). Measured on a
# 2-core machine, see the README's "Teaching a class" for how many students a core serves.
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    # No outbound fetches from a classroom server (JupyterLab's news and update check).
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]
if os.geteuid() == 0:  # in a container run as root; never the case with real system users
    c.Spawner.args.append("--allow-root")
c.Spawner.environment = {
    # The course's server settings, exactly as `make lab` and Binder use them.
    "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config"),
    "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
}
if RUN_MARKER:
    c.Spawner.environment["LOSSLAB_HUB_RUN"] = RUN_MARKER
# A class starts all at once: let a slow machine take its time before the hub gives up on a spawn.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# ---------------------------------------------------------------------------------------------------
# Idle culling: a server nobody has used for an hour is stopped (its files stay in the student's home;
# the student starts it again by logging in). Change --timeout for your class: long enough to survive
# a lecture's pauses, short enough to give memory back between lectures. --cull-users is off, so
# students and their homes are never deleted.
services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600", "--cull-every=300"],
        "environment": {"LOSSLAB_HUB_RUN": RUN_MARKER} if RUN_MARKER else {},
    }
]
roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
# An API token for tools (the tests, a grading script): create users, start their servers, mint tokens.
ADMIN_TOKEN = os.environ.get("LOSSLAB_HUB_ADMIN_TOKEN")
if ADMIN_TOKEN:
    services.append({"name": "losslab-admin", "api_token": ADMIN_TOKEN})
    roles.append(
        {
            "name": "losslab-admin",
            "scopes": ["admin:users", "admin:servers", "access:servers", "tokens"],
            "services": ["losslab-admin"],
        }
    )
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles

# ---------------------------------------------------------------------------------------------------
# What students read on the login page (and the hub's home): one nbgitpuller link per lesson, which puts
# the course into their home on the first click and brings the instructor's changes on later ones.
# Relative to the hub's root, so they work at whatever address students use; the README's links use
# course.toml's `hub`.
_LESSON_LINKS = course.hub_landing_html(hub_url="")
c.JupyterHub.template_vars = {"announcement_login": _LESSON_LINKS, "announcement_home": _LESSON_LINKS}
