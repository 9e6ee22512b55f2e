"""The course's address, release and lessons, and the launch links made from them.

course.toml is the one place that names the repository; everything that links to it calls this module.
"""

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

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
