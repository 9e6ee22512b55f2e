"""Rewrite the README's launch links and notebook table from course.toml and the notebooks (`make links`).

In the table, each row's number, title, lecture and self-study minutes and its Binder, Colab and class-hub
(nbgitpuller) links are generated (course.lessons(), course.binder_url, course.colab_url,
course.nbgitpuller_url); its "What you learn" is written by hand and kept as it is. Any other Binder, Colab or
nbgitpuller link in README.md is rewritten for the notebook it opens.
Running it twice changes nothing; tests/test_links.py fails while README.md differs from what it writes.
"""

import re
import sys
from urllib.parse import parse_qs, urlsplit

import course

README = course.ROOT / "README.md"
HEADER = "| # | Notebook | What you learn | Lecture | Self-study | Open it |"
SEPARATOR = "|---|----------|----------------|---------|------------|---------|"
# The header's first cells: how the table is found, also before a change of its later columns.
TABLE_START = "| # | Notebook | What you learn |"
LEARN_COLUMN = 2
CELL_BORDER = re.compile(r"(?<!\\)\|")  # a `|` inside a cell is written `\|`
ROW_NOTEBOOK = re.compile(r"\]\(notebooks/(\d\d_[^)/]+\.ipynb)\)")
BINDER = re.compile(r"https://mybinder\.org/v2/gh/[^\s)]*?urlpath=lab/tree/(notebooks/\d\d_\w+\.ipynb)")
COLAB = re.compile(r"https://colab\.research\.google\.com/github/[^\s)]*?/blob/[^\s/)]+/(notebooks/\d\d_\w+\.ipynb)")
# Any hub's address: a fork's README may still hold the old one.
NBGITPULLER = re.compile(r"https?://[^\s)\]]*?/hub/user-redirect/git-pull\?[^\s)\]]*")
URLPATH_NOTEBOOK = re.compile(r"^lab/tree/[^/]+/(notebooks/\d\d_\w+\.ipynb)$")
HUB_LABEL = "Open on the class hub"


def cells(row):
    return [cell.strip() for cell in CELL_BORDER.split(row.strip())[1:-1]]


def launch_links(path):
    return (
        f"[Open in Binder]({course.binder_url(path)}) · [Open in Colab]({course.colab_url(path)})"
        f" · [{HUB_LABEL}]({course.nbgitpuller_url(path)})"
    )


def nbgitpuller_link(match):
    """The nbgitpuller link `make links` writes for the notebook a link opens; a link that opens none is kept."""
    urlpath = parse_qs(urlsplit(match[0]).query).get("urlpath", [""])[0]
    notebook = URLPATH_NOTEBOOK.match(urlpath)
    return course.nbgitpuller_url(notebook[1]) if notebook else match[0]


def row(lesson, learned):
    return (
        f"| {lesson.number} | [{lesson.title}]({lesson.path.as_posix()}) | {learned} "
        f"| {lesson.lecture_min} min | {lesson.self_study_min} min | {launch_links(lesson.path)} |"
    )


def find_table(lines):
    """(first, end) line indices of the notebook table: its header, separator and rows."""
    first = next((i for i, line in enumerate(lines) if line.startswith(TABLE_START)), None)
    if first is None:
        raise SystemExit(f"README.md: no notebook table (a line starting with {TABLE_START!r})")
    end = first
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return first, end


def learned(readme):
    """{notebook file name: its row's "What you learn"}, from README's table."""
    lines = readme.splitlines()
    first, end = find_table(lines)
    found = {}
    for line in lines[first + 2 : end]:
        match = ROW_NOTEBOOK.search(line)
        if match:
            found[match[1]] = cells(line)[LEARN_COLUMN]
    return found


def sync(readme):
    """README's text with the notebook table and every launch link generated from course.toml."""
    kept = learned(readme)
    lines = readme.splitlines()
    first, end = find_table(lines)
    rows = [row(lesson, kept.get(lesson.path.name, "")) for lesson in course.lessons()]
    lines[first:end] = [HEADER, SEPARATOR, *rows]
    text = "\n".join(lines) + "\n"
    text = BINDER.sub(lambda match: course.binder_url(match[1]), text)
    text = NBGITPULLER.sub(nbgitpuller_link, text)
    return COLAB.sub(lambda match: course.colab_url(match[1]), text)


def main():
    before = README.read_text()
    after = sync(before)
    for lesson in course.lessons():
        if not learned(after)[lesson.path.name]:
            print(f"README.md: write what {lesson.path.name} teaches in its row's 'What you learn'", file=sys.stderr)
    dropped = sorted(set(learned(before)) - set(learned(after)))
    if dropped:
        print(f"README.md: dropped the rows of notebooks that no longer exist: {', '.join(dropped)}", file=sys.stderr)
    if after == before:
        print(f"README.md: links up to date ({where()})")
    else:
        README.write_text(after)
        print(f"README.md: rewrote the notebook table and launch links ({where()})")


def where():
    return f"{course.slug()} at {course.release()}; class hub {course.hub()}, branch {course.branch()}"


if __name__ == "__main__":
    main()
