"""The README's nbgitpuller links on a real JupyterHub (tests/hub.py), with a local git repository standing
in for the public one: a student clicks a link in Chromium, logs in, and lands in JupyterLab on that
notebook of the course, cloned into their home; after the instructor commits changes, clicking again
brings them without losing what the student wrote.

What nbgitpuller 1.3.0 does on a later click (nbgitpuller/pull.py), as these tests see it:
- `git fetch`; a file the student deleted is checked out again from upstream (a fresh copy of a
  notebook they broke: delete it, click the link);
- the student's changes are committed in their clone ("Automatic commit by nbgitpuller"), then
  `git merge -Xours origin/<branch>`: upstream changes arrive wherever they touch lines the student did
  not change; new notebooks arrive; files the student created are left alone.
- Where the instructor changed the very line the student changed (a conflict), the student's line wins
  and the instructor's change to that line is dropped, silently: no conflict markers, no backup copy, no
  message other than "Auto-merging ..." in the sync log. The instructor's other changes to the same
  notebook (other lines, other cells) still arrive. So the student sees their own answer, unchanged, and
  never the instructor's new version of that line; to get it, they rename or delete their notebook and
  click the link again (a deleted file comes back as upstream has it).
Notebooks are JSON with one line per source line, so "the same line" means the same line of the same
cell: an instructor's hint added as a new line of the exercise cell merges in next to the student's
answer.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

import course
from hub import jupyterhub
from servers import ROOT

pytestmark = pytest.mark.browser

FIRST = "notebooks/01_logits_and_softmax.ipynb"
EDITED = "notebooks/02_cross_entropy_from_scratch.ipynb"
CHANGED = "notebooks/03_nll_and_numerical_stability.ipynb"
DELETED = "notebooks/04_gradients.ipynb"
NEW = "notebooks/08_a_new_lesson.ipynb"
BLANK_ANSWER = "    return None  # your code here\n"
ANSWER = "    return F.cross_entropy(logits, target)  # ada's answer\n"
CLICK_MS = 180_000  # the first click logs in and spawns a JupyterLab: a few seconds alone, two cores may be busy


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def hub():
    with jupyterhub() as running:
        yield running


@pytest.fixture
def upstream(tmp_path):
    """The course's public repository, as the instructor's clone: this checkout's HEAD, on the branch the
    links pull (course.toml's `branch`)."""
    repo = tmp_path / "upstream"
    git("clone", "--quiet", "--branch", course.branch(), str(ROOT), str(repo), cwd=tmp_path)
    git("config", "user.name", "Instructor", cwd=repo)
    git("config", "user.email", "instructor@example.edu", cwd=repo)
    return repo


def link(hub, upstream, notebook):
    # file:// (not a bare path) so git fetches as from a remote: a shallow clone, as from GitHub.
    return course.nbgitpuller_url(notebook, hub_url=hub.url, repo=upstream.as_uri())


def click(page, hub, user, url):
    """Open `url` as a student does: log in if the hub asks, wait for the sync and JupyterLab on the
    notebook."""
    notebook = re.search(r"urlpath=lab%2Ftree%2F(.+)$", url)[1].replace("%2F", "/")
    page.goto(url)
    if "/hub/login" in page.url:
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", hub.password)
        page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab/tree/{notebook}", timeout=CLICK_MS)
    # JupyterLab shows the notebook: its tab is the current one, its cells are on the page.
    tab = page.locator(".lm-DockPanel .lm-TabBar-tab.jp-mod-current .lm-TabBar-tabLabel")
    tab.filter(has_text=Path(notebook).name).wait_for(timeout=CLICK_MS)
    page.locator(".jp-NotebookPanel:visible .jp-Cell").first.wait_for(timeout=CLICK_MS)


class Student:
    """A student's files through their server's contents API (with one of their own tokens)."""

    def __init__(self, hub, user):
        self.url = hub.user_url(user) + "api/contents/" + course.clone_folder() + "/"
        self.headers = {"Authorization": f"token {hub.token_for(user)}"}
        self.clone = hub.home(user) / course.clone_folder()

    def get(self, path):
        response = requests.get(self.url + path, headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def notebook(self, path):
        """The notebook as the server reads it (nbformat validates it: a merge that broke its JSON fails)."""
        return self.get(path)["content"]

    def save(self, path, content):
        body = {"type": "notebook", "format": "json", "content": content}
        requests.put(self.url + path, json=body, headers=self.headers, timeout=30).raise_for_status()

    def write_text(self, path, text):
        body = {"type": "file", "format": "text", "content": text}
        requests.put(self.url + path, json=body, headers=self.headers, timeout=30).raise_for_status()

    def delete(self, path):
        requests.delete(self.url + path, headers=self.headers, timeout=30).raise_for_status()

    def answer_exercise(self, path):
        """Write ANSWER into the notebook's first exercise ("# your code here") and save; returns the cell's index."""
        content = self.notebook(path)
        index = next(i for i, cell in enumerate(content["cells"]) if BLANK_ANSWER in cell["source"])
        content["cells"][index]["source"] = content["cells"][index]["source"].replace(BLANK_ANSWER, ANSWER)
        self.save(path, content)
        return index


def commit(upstream, message, edits):
    """The instructor's commit: {path: (old text, new text)} replaced once in each file; a path without an
    old text (None) is a new file."""
    for path, (old, new) in edits.items():
        file = upstream / path
        if old is None:
            file.write_text(new)
        else:
            text = file.read_text()
            assert text.count(old) >= 1, f"{path}: {old!r} not found"
            file.write_text(text.replace(old, new, 1))
        git("add", path, cwd=upstream)
    git("commit", "--quiet", "-m", message, cwd=upstream)


def source_line(text):
    """A notebook source line as it stands in the .ipynb file's JSON."""
    return json.dumps(text)


def new_notebook(title):
    cells = [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": [f"# {title}"]}]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1) + "\n"


def markdown_line(notebook_file):
    """A line of the notebook's last markdown cell (a line the instructor edits; the student does not)."""
    cells = json.loads(notebook_file.read_text())["cells"]
    return next(line for cell in reversed(cells) if cell["cell_type"] == "markdown" for line in cell["source"])


def test_first_click_clones_the_course_and_opens_the_notebook_later_clicks_keep_the_students_work(
    hub, upstream, chromium
):
    context = chromium.new_context()
    page = context.new_page()
    try:
        click(page, hub, "ada", link(hub, upstream, FIRST))
        ada = Student(hub, "ada")
        tracked = set(git("ls-files", cwd=upstream).splitlines())
        cloned = {p.relative_to(ada.clone).as_posix() for p in ada.clone.rglob("*") if p.is_file()}
        ignored = (".git/", ".ipynb_checkpoints/")  # git's own; JupyterLab's, which .gitignore names
        assert tracked == {p for p in cloned if not any(part in p for part in ignored)}, "the whole course"
        assert git("rev-parse", "HEAD", cwd=ada.clone) == git("rev-parse", "HEAD", cwd=upstream)

        # Ada answers an exercise of 02 and saves, writes her own notes, and deletes 04 (she broke it).
        index = ada.answer_exercise(EDITED)
        ada.write_text("notes.md", "my notes\n")
        ada.delete(DELETED)

        # The instructor adds a notebook and changes another one (one line of 03's last markdown cell).
        line = markdown_line(upstream / CHANGED)
        changed_line = line.rstrip("\n") + " (Updated for this term.)" + ("\n" if line.endswith("\n") else "")
        commit(
            upstream,
            "A new lesson; 03 updated",
            {
                NEW: (None, new_notebook("A new lesson")),
                CHANGED: (source_line(line), source_line(changed_line)),
            },
        )

        # She clicks the new lesson's link.
        click(page, hub, "ada", link(hub, upstream, NEW))
        assert ada.notebook(NEW)["cells"][0]["source"] == "# A new lesson"
        assert any(changed_line in cell["source"] for cell in ada.notebook(CHANGED)["cells"]), "03's change arrives"
        assert ANSWER in ada.notebook(EDITED)["cells"][index]["source"], "her answer is kept"
        assert ada.get("notes.md")["content"] == "my notes\n", "her own file is kept"
        assert ada.notebook(DELETED)["cells"], "a deleted notebook comes back from upstream"
        assert "Automatic commit by nbgitpuller" in git("log", "--format=%s", cwd=ada.clone)
        # Nothing else changed in her clone but her answer and her notes.
        status = git("status", "--porcelain", cwd=ada.clone).splitlines()
        assert sorted(status) == ["?? notes.md"], status
        differs = git("diff", "--name-only", "origin/" + course.branch(), "HEAD", cwd=ada.clone).split()
        assert differs == [EDITED], differs
    finally:
        context.close()


def test_a_conflict_keeps_the_students_line_and_drops_the_instructors_change_to_it(hub, upstream, chromium):
    """The instructor changes the very line the student answered (and adds a note to the same cell's
    notebook elsewhere): after the click the student sees their answer, not the instructor's new line;
    the rest of the instructor's change arrives; no conflict markers, no backup or renamed file."""
    context = chromium.new_context()
    page = context.new_page()
    try:
        click(page, hub, "bo", link(hub, upstream, EDITED))
        bo = Student(hub, "bo")
        index = bo.answer_exercise(EDITED)
        before = sorted(p.name for p in bo.clone.rglob("*") if ".git" not in p.parts)

        instructors_line = BLANK_ANSWER.replace("# your code here", "# your code here: start from log_softmax")
        note = markdown_line(upstream / EDITED)
        noted = note.rstrip("\n") + " (See the new hint.)" + ("\n" if note.endswith("\n") else "")
        commit(
            upstream,
            "A hint in 02's first exercise",
            {EDITED: (source_line(BLANK_ANSWER), source_line(instructors_line))},
        )
        commit(upstream, "A note in 02", {EDITED: (source_line(note), source_line(noted))})

        click(page, hub, "bo", link(hub, upstream, EDITED))
        cells = bo.notebook(EDITED)["cells"]
        assert ANSWER in cells[index]["source"], "the student's line wins the conflict"
        assert "start from log_softmax" not in cells[index]["source"], "the instructor's change to it is dropped"
        assert any(noted in cell["source"] for cell in cells), "the instructor's other change arrives"
        text = (bo.clone / EDITED).read_text()
        assert not re.search(r"^(<<<<<<<|=======|>>>>>>>)", text, re.M), "no conflict markers"
        assert sorted(p.name for p in bo.clone.rglob("*") if ".git" not in p.parts) == before, "no new files"
        assert git("status", "--porcelain", cwd=bo.clone) == "", "everything merged and committed"
        assert git("rev-parse", "origin/" + course.branch(), cwd=bo.clone).strip() in git(
            "rev-list", "HEAD", cwd=bo.clone
        ), "upstream's commits are merged in"
    finally:
        context.close()
