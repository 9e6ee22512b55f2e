"""Colab: every notebook's setup cell starts with the bootstrap tools/sync_colab.py writes from course.toml,
and runs on Colab as it does here.

Colab is simulated with real components: a fresh kernel of this venv's Python with a stand-in
`google.colab` package imported at startup (an IPython startup file, as Colab's kernel imports the real
one), in an empty folder that holds only the notebook, with no `losslab` on the path. GitHub is a local
clone of this checkout, tagged with the release, reached through the course's own https address by a
temporary git config (`url.<clone>.insteadOf`); git may use no other protocol than file://, so nothing here
touches the network. Each notebook runs top to bottom (6-8 s each here; the whole file takes about 1.5 min).
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import course
import sync_colab
from losslab.notebook import OUTPUTS_TORCH, VERIFIED_TORCH, colab_note

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTE_START = f"On Colab: the outputs saved in this notebook were made with torch {OUTPUTS_TORCH} and you have torch "
FOLDER = f"losslab-{course.release()}"
STANDIN_OUTPUT = '''"""Stand-in for Colab's google.colab.output: records each call in the file $COLAB_STANDIN_LOG."""
import os


def enable_custom_widget_manager():
    with open(os.environ["COLAB_STANDIN_LOG"], "a") as log:
        log.write("enable_custom_widget_manager\\n")
'''


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def setup_only(path):
    """The notebook cut down to its setup cell (the bootstrap and setup())."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [sync_colab.setup_cell(nb)]
    return nb


def execute(nb, folder, allow_errors=False):
    NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=allow_errors, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb


def stdout(cell):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


# The bootstrap is generated, current, and short.


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_setup_cell_holds_the_bootstrap_of_course_toml(path):
    text = path.read_text(encoding="utf-8")
    synced = sync_colab.synced(nbformat.reads(text, as_version=4), course.repository(), course.release())
    assert nbformat.writes(synced) == text, f"the Colab bootstrap of {path.name} is stale: run `make links`"
    assert sync_colab.setup_cell(synced).source.startswith(sync_colab.bootstrap(course.repository(), course.release()))


def test_sync_inserts_replaces_and_keeps_the_lesson_code():
    lesson = "import math\n\nfrom losslab.notebook import fmt, setup\n\nsetup()"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · A lesson"), nbformat.v4.new_code_cell(lesson)]
    fork = "https://github.com/someone/fork"
    sync_colab.synced(nb, fork, "v1.0")
    source = nb.cells[1].source
    assert source == f"{sync_colab.bootstrap(fork, 'v1.0')}\n\n{lesson}"
    assert f'"--branch=v1.0", "{fork}"' in source and "losslab-v1.0" in source and f"{fork}/tags" in source
    sync_colab.synced(nb, course.repository(), course.release())
    assert nb.cells[1].source == f"{sync_colab.bootstrap(course.repository(), course.release())}\n\n{lesson}"
    again = nb.cells[1].source
    sync_colab.synced(nb, course.repository(), course.release())
    assert nb.cells[1].source == again, "a second run changes nothing"
    nb.cells[1].source = "import math\n\nmath.pi"
    with pytest.raises(SystemExit, match="setup()"):
        sync_colab.synced(nb, fork, "v1.0")


def test_sync_colab_rewrites_a_stale_notebook_file_as_the_repository_writes_it(tmp_path, capsys):
    path = NOTEBOOKS[0]
    stale = sync_colab.synced(nbformat.read(path, as_version=4), "https://github.com/old/place", "v0.1")
    copy = tmp_path / path.name
    copy.write_text(nbformat.writes(stale), encoding="utf-8")
    sync_colab.main([copy])
    assert copy.read_bytes() == path.read_bytes()
    assert capsys.readouterr().out == f"updated the Colab bootstrap of {path.name}\n"
    sync_colab.main([copy])
    assert capsys.readouterr().out == "", "an up-to-date notebook is not rewritten"


def test_the_note_names_the_torch_of_the_saved_outputs():
    pin = re.search(r"^torch==([\d.]+)", (ROOT / "requirements.txt").read_text(), re.M)[1]
    assert OUTPUTS_TORCH == pin, "losslab.notebook.OUTPUTS_TORCH must follow requirements.txt's torch pin"
    for path in NOTEBOOKS:
        saved = stdout(sync_colab.setup_cell(nbformat.read(path, as_version=4)))
        assert f"| torch {OUTPUTS_TORCH}+" in saved or f"| torch {OUTPUTS_TORCH} " in saved, path.name
    assert colab_note().startswith(NOTE_START) and "\n" not in colab_note()
    assert "so the last digit of a printed number can differ from the saved one." in colab_note()
    assert colab_note().endswith(f"The course is verified on torch {' and '.join(VERIFIED_TORCH)}.")


# The simulated Colab.


@pytest.fixture(scope="module")
def github(tmp_path_factory):
    """A local stand-in for the course's GitHub repository: a clone of this checkout with the working tree's
    losslab committed, tagged with the release, then one more commit on its branch, so that a clone of the
    branch would differ from a clone of the tag."""
    origin = tmp_path_factory.mktemp("github") / "losslab"
    git("clone", "--quiet", str(ROOT), str(origin), cwd=ROOT)
    shutil.copytree(ROOT / "notebooks" / "losslab", origin / "notebooks" / "losslab", dirs_exist_ok=True)
    commit = ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "--quiet", "--allow-empty"]
    git("add", "--all", "notebooks/losslab", cwd=origin)
    git(*commit, "-m", "the working tree's losslab", cwd=origin)
    git("tag", "--force", course.release(), cwd=origin)
    git(*commit, "-m", "after the release", cwd=origin)
    return origin


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """Environment variables for a kernel that imports a stand-in google.colab at startup; returns the
    stand-in's call log."""
    package = tmp_path / "standin" / "google" / "colab"  # google/ is a namespace package, as in site-packages
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from . import output  # noqa: F401\n")
    (package / "output.py").write_text(STANDIN_OUTPUT)
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-google-colab.py").write_text("import google.colab  # noqa: F401\n")
    log = tmp_path / "calls.log"
    log.touch()
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "standin"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("COLAB_STANDIN_LOG", str(log))
    return log


def redirect_github(tmp_path, monkeypatch, target):
    """Send git's requests for the course's address to `target` (a file:// URL), and allow nothing but file://."""
    config = tmp_path / "gitconfig"
    config.write_text(f'[url "{target}"]\n\tinsteadOf = {course.repository()}\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")


def empty_folder_with(tmp_path, path):
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_on_colab_the_notebook_fetches_the_release_and_runs_top_to_bottom(path, github, colab, tmp_path, monkeypatch):
    redirect_github(tmp_path, monkeypatch, github.as_uri())
    folder = empty_folder_with(tmp_path, path)
    probe = subprocess.run([sys.executable, "-c", "import losslab"], cwd=folder, capture_output=True, text=True)
    assert "No module named 'losslab'" in probe.stderr, "losslab must be importable only through the bootstrap"

    nb = execute(nbformat.read(folder / path.name, as_version=4), folder)

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or "raises-exception" in cell.metadata.get("tags", []), f"{errors[0].ename} in {cell.source}"
    printed = stdout(code[0]).splitlines()
    assert len(printed) == 2 and printed[0].startswith("Outputs made with python"), printed
    assert printed[1] == colab_note(), "the note, once, right after the versions"
    assert not any(NOTE_START in json.dumps(cell.outputs) for cell in code[1:])
    assert colab.read_text() == "enable_custom_widget_manager\n", "Colab's widget manager for ipywidgets 8, once"
    saved = nbformat.read(path, as_version=4)
    views = [o for cell in nb.cells for o in cell.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
    saved_views = [o for cell in saved.cells for o in cell.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
    assert views and len(views) == len(saved_views), "every widget the saved notebook shows is built"

    clone = folder / FOLDER
    assert git("rev-parse", "HEAD", cwd=clone) == git("rev-parse", f"{course.release()}^{{commit}}", cwd=github)
    assert git("rev-parse", "HEAD", cwd=clone) != git("rev-parse", "HEAD", cwd=github), "the tag, not the branch"
    assert git("rev-parse", "--is-shallow-repository", cwd=clone) == "true"
    assert git("config", "remote.origin.url", cwd=clone) == course.repository()
    assert sorted(p.name for p in folder.iterdir()) == sorted([path.name, FOLDER])


def assert_says_what_to_do(error, reason):
    assert error.ename == "RuntimeError"
    message = error.evalue
    assert message.startswith("Could not fetch the course's losslab package (") and reason in message, message
    for advice in (
        "Check that this runtime has internet access",
        f"the release {course.release()} is listed at {course.repository()}/tags",
        "then run this cell again",
        "or upload the course's notebooks/losslab folder to ",
    ):
        assert advice in message, message


def test_without_network_the_setup_cell_says_what_to_do(colab, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")  # https refused: as if the runtime had no internet
    folder = tmp_path / "content"
    folder.mkdir()
    (cell,) = execute(setup_only(NOTEBOOKS[0]), folder, allow_errors=True).cells
    assert [o.output_type for o in cell.outputs] == ["error"], "one message, before any import of losslab"
    assert_says_what_to_do(cell.outputs[0], "transport 'https' not allowed")
    assert f"folder to {folder}" in cell.outputs[0].evalue
    assert not any(folder.iterdir()), "a failed clone leaves nothing behind"


def test_without_the_release_tag_the_setup_cell_says_what_to_do(colab, tmp_path, monkeypatch):
    untagged = tmp_path / "untagged"
    git("clone", "--quiet", str(ROOT), str(untagged), cwd=ROOT)
    if course.release() in git("tag", "--list", cwd=untagged).split():
        git("tag", "--delete", course.release(), cwd=untagged)
    redirect_github(tmp_path, monkeypatch, untagged.as_uri())
    folder = tmp_path / "content"
    folder.mkdir()
    (cell,) = execute(setup_only(NOTEBOOKS[1]), folder, allow_errors=True).cells
    assert [o.output_type for o in cell.outputs] == ["error"]
    assert_says_what_to_do(cell.outputs[0], f"Remote branch {course.release()} not found")


def test_an_uploaded_losslab_folder_is_used_without_fetching(colab, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-config"))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "notebooks" / "losslab", folder / "losslab")
    (cell,) = execute(setup_only(NOTEBOOKS[0]), folder).cells
    assert stdout(cell).splitlines()[1] == colab_note()
    assert sorted(p.name for p in folder.iterdir()) == ["losslab"], "no clone"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outside_colab_the_setup_cell_prints_what_it_saved_and_fetches_nothing(path, github, tmp_path, monkeypatch):
    """Here (no google.colab), even with the course's address reachable, the bootstrap does nothing."""
    redirect_github(tmp_path, monkeypatch, github.as_uri())
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "notebooks"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    folder = tmp_path / "content"
    folder.mkdir()
    (cell,) = execute(setup_only(path), folder).cells
    saved = sync_colab.setup_cell(nbformat.read(path, as_version=4))
    assert cell.outputs == saved.outputs
    assert not any(folder.iterdir()), "nothing fetched"
