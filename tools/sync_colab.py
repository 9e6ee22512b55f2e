"""The Colab bootstrap at the top of every notebook's setup cell (its first code cell, which calls `setup()`).

Colab has no `losslab`. On Colab only (a kernel there imports google.colab at startup), the bootstrap
clones the course at its release, a tag, never the default branch, into a folder of the current directory
(Colab's is /content) and puts that clone's notebooks/ folder on sys.path; if the clone fails it stops with
one message saying what to do. A `losslab` folder uploaded into the current directory is used instead.
Elsewhere it does nothing, so no saved output changes.

The lines are the same in every notebook and come from course.toml (tools/course.py), so they are
generated, never edited by hand. After changing course.toml, `make links` runs

    .venv/bin/python tools/sync_colab.py notebooks/NN_*.ipynb

which rewrites the bootstrap of each notebook given (inserting it if missing) and leaves the rest of the
cell, the lesson's own imports and `setup()`, as it is. tests/test_colab.py fails while one is stale.
"""

import ast
import sys
from pathlib import Path

import nbformat

import course

# The bootstrap's first line starts with this: it is how a rerun finds the lines to replace.
MARKER = "# On Google Colab only"


def bootstrap(repository, release):
    """The bootstrap's lines for a course at `repository` (https://github.com/OWNER/NAME) and tag `release`."""
    folder = f"losslab-{release}"
    tags_page = f"{repository.removesuffix('/').removesuffix('.git')}/tags"
    clone = ["git", "clone", "--quiet", "--depth=1", f"--branch={release}", repository]
    advice = (
        "Could not fetch the course's losslab package ({fetched.stderr.strip()}). Check that this runtime "
        f"has internet access and that the release {release} is listed at {tags_page}, then run this cell "
        "again, or upload the course's notebooks/losslab folder to {os.getcwd()} and run it again."
    )
    return "\n".join(
        [
            f"{MARKER} (nothing happens elsewhere): fetch the course's losslab package, release {release}.",
            "import os",
            "import subprocess",
            "import sys",
            "",
            'if "google.colab" in sys.modules and not os.path.isdir("losslab"):',
            f"    folder = os.path.abspath({_quoted(folder)})",
            f"    clone = [{', '.join(map(_quoted, clone))}, folder]",
            "    if not os.path.isdir(folder):",
            "        fetched = subprocess.run(clone, capture_output=True, text=True)",
            "        if fetched.returncode != 0:",
            f"            raise RuntimeError(f{_quoted(advice)})",
            '    sys.path.insert(0, os.path.join(folder, "notebooks"))',
        ]
    )


def _quoted(text):
    """A string literal in double quotes, as ruff's formatter writes them (none of ours holds a quote)."""
    if '"' in text or "\\" in text:
        raise ValueError(f"cannot quote {text!r}")
    return f'"{text}"'


def setup_cell(nb):
    """The notebook's first code cell, which must call setup()."""
    cell = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    if cell is None or "setup()" not in cell.source:
        raise SystemExit("the first code cell of a notebook must call setup() (README, 'Adding a notebook')")
    return cell


def lesson_code(source):
    """The setup cell's source without its bootstrap: the lesson's own imports and `setup()`."""
    if not source.startswith(MARKER):
        return source.strip("\n")
    bootstrap_if = next((node for node in ast.parse(source).body if isinstance(node, ast.If)), None)
    if bootstrap_if is None:
        raise SystemExit(f"a setup cell starts with {MARKER!r} but holds no `if` block: restore or remove it")
    return "\n".join(source.split("\n")[bootstrap_if.end_lineno :]).strip("\n")


def synced(nb, repository, release):
    """`nb` with its setup cell starting with the bootstrap for `repository` at `release`."""
    cell = setup_cell(nb)
    cell.source = f"{bootstrap(repository, release)}\n\n{lesson_code(cell.source)}"
    return nb


def main(paths):
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        after = nbformat.writes(synced(nb, course.repository(), course.release()))
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"updated the Colab bootstrap of {path.name}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main([Path(p) for p in sys.argv[1:]])
