"""The course's address, release and lessons, and the launch links made from them.

course.toml is the one place that names the repository; everything that links to it calls this module.
"""

import html
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+?)(?:\.git)?/?$")
_TIME = re.compile(r"\*\*Time:\*\* lecture (\d+) min .*?self-study (\d+) min")


def config():
    """course.toml as a dict: `repository` (a GitHub https address) and `release` (a tag)."""
    return tomllib.loads((ROOT / "course.toml").read_text())


def repository():
    return config()["repository"]


def release():
    return config()["release"]


def slug():
    """'owner/name' of the course's GitHub repository."""
    match = _GITHUB.match(repository())
    if not match:
        raise ValueError(f"course.toml: repository must be https://github.com/OWNER/NAME, not {repository()!r}")
    return f"{match[1]}/{match[2]}"


def binder_url(notebook):
    """mybinder.org link that builds the release and opens `notebook` (a path under the repo) in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{slug()}/{release()}?urlpath=lab/tree/{_repo_path(notebook)}"


def colab_url(notebook):
    """Colab link that opens `notebook` (a path under the repo) at the release."""
    return f"https://colab.research.google.com/github/{slug()}/blob/{release()}/{_repo_path(notebook)}"


def hub():
    """The class's JupyterHub, e.g. "http://localhost:8000" (course.toml's `hub`, no trailing slash)."""
    return config()["hub"].rstrip("/")


def branch():
    """The branch nbgitpuller pulls (course.toml's `branch`)."""
    return config()["branch"]


def clone_folder():
    """The folder the course is cloned into in each student's home: the repository's name."""
    return slug().split("/")[1]


def nbgitpuller_url(notebook, hub_url=None, repo=None, branch_name=None):
    """nbgitpuller link that clones (first click) or updates (later clicks) the course in the student's home
    on the hub and opens `notebook` (a path under the repo) in JupyterLab.

    hub_url, repo and branch_name default to course.toml's `hub`, `repository` and `branch`; a test passes a
    hub on a free port and a local repository. nbgitpuller 1.3.0 reads repo, branch, targetpath and urlpath
    (nbgitpuller/handlers.py); targetpath is given so that the folder, which urlpath names, does not depend on
    how `repo` is spelt (nbgitpuller's default is its last path segment: "losslab.git" for a .git address).
    Every value is percent-encoded as nbgitpuller's link generator does (encodeURIComponent)."""
    query = {
        "repo": repository() if repo is None else str(repo),
        "branch": branch() if branch_name is None else branch_name,
        "targetpath": clone_folder(),
        "urlpath": f"lab/tree/{clone_folder()}/{_repo_path(notebook)}",
    }
    base = hub() if hub_url is None else hub_url.rstrip("/")
    return f"{base}/hub/user-redirect/git-pull?{urlencode(query, quote_via=quote, safe='')}"


def hub_landing_html(hub_url=None):
    """HTML for the hub's pages (JupyterHub's `template_vars`, e.g. `announcement_home`): one nbgitpuller link
    per lesson, in order. hub_url="" gives links relative to the hub's own root ("/hub/user-redirect/...")."""
    items = "".join(
        f'<li><a href="{html.escape(nbgitpuller_url(lesson.path, hub_url=hub_url))}">'
        f"{html.escape(lesson.number)} · {html.escape(lesson.title)}</a></li>"
        for lesson in lessons()
    )
    return f"<p>Open a lesson (the first click copies the course into your home; later clicks update it and keep your work):</p><ul>{items}</ul>"


def _repo_path(notebook):
    path = Path(notebook)
    if path.is_absolute():
        path = path.relative_to(ROOT)
    return path.as_posix()


@dataclass(frozen=True)
class Lesson:
    number: str  # "01"
    title: str  # "Logits and softmax"
    path: Path  # notebooks/01_logits_and_softmax.ipynb, relative to the repository
    lecture_min: int
    self_study_min: int


def lessons():
    """Every lesson notebook in order, with its title (first heading) and times (its **Time:** line)."""
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        markdown = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
        heading = next(line for text in markdown for line in text.splitlines() if line.startswith("# "))
        number, _, title = heading[2:].partition(" · ")
        times = next(_TIME.search(text) for text in markdown if _TIME.search(text))
        found.append(Lesson(number, title, path.relative_to(ROOT), int(times[1]), int(times[2])))
    return found
