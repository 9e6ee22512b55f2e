"""The README's launch links come from course.toml, and every link in the README and docs/ leads somewhere.

A Binder or Colab link that names the wrong repository, release or notebook fails only when a learner
clicks it, so the links are parsed here rather than compared as strings: a link `make links` would
write wrongly fails too.
"""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import course
import sync_readme

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
NOTEBOOK_PATH = re.compile(r"^notebooks/\d\d_[a-z0-9_]+\.ipynb$")
FENCED_CODE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]+`")
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HTML_TARGET = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.I)


def prose(text):
    """Markdown without its code: brackets in code are not links."""
    return INLINE_CODE.sub("", FENCED_CODE.sub("", text))


def images(text):
    """(alt text, target) of every image."""
    return IMAGE.findall(prose(text))


def links(text):
    """(text, target) of every link, images included (a badge's link holds its image's alt text)."""
    text = prose(text)
    targets = IMAGE.findall(text) + [("", target) for target in HTML_TARGET.findall(text)]
    return targets + LINK.findall(IMAGE.sub(lambda image: image[1], text))


def binder_target(url):
    """(owner/name, ref, notebook) of a mybinder.org link that opens JupyterLab at a notebook."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "mybinder.org"), f"{url}: not https://mybinder.org"
    segments = parts.path.split("/")
    assert len(segments) == 6 and segments[:3] == ["", "v2", "gh"] and all(segments[3:]), (
        f"{url}: the path must be /v2/gh/OWNER/NAME/REF"
    )
    query = parse_qs(parts.query, strict_parsing=True)
    assert list(query) == ["urlpath"] and len(query["urlpath"]) == 1, f"{url}: the query must be urlpath=..."
    urlpath = query["urlpath"][0]
    assert urlpath.startswith("lab/tree/"), f"{url}: urlpath must open JupyterLab (lab/tree/...)"
    notebook = urlpath.removeprefix("lab/tree/")
    assert NOTEBOOK_PATH.match(notebook), f"{url}: urlpath must name notebooks/NN_topic.ipynb"
    assert not parts.fragment, f"{url}: no fragment"
    return f"{segments[3]}/{segments[4]}", segments[5], notebook


def colab_target(url):
    """(owner/name, ref, notebook) of a Colab link that opens a notebook of a GitHub repository."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "colab.research.google.com"), f"{url}: not Colab"
    segments = parts.path.split("/")
    assert len(segments) == 8 and segments[1] == "github" and segments[4] == "blob" and all(segments[1:]), (
        f"{url}: the path must be /github/OWNER/NAME/blob/REF/notebooks/NN_topic.ipynb"
    )
    notebook = "/".join(segments[6:])
    assert NOTEBOOK_PATH.match(notebook), f"{url}: must name notebooks/NN_topic.ipynb"
    assert not parts.query and not parts.fragment, f"{url}: no query or fragment"
    return f"{segments[2]}/{segments[3]}", segments[5], notebook


def launch_links(text):
    """{"binder" | "colab": [(link text, url)]} for every Binder or Colab link."""
    found = {"binder": [], "colab": []}
    for label, target in links(text):
        host = urlsplit(target).netloc
        if "mybinder" in host:
            found["binder"].append((label, target))
        elif "colab" in host:
            found["colab"].append((label, target))
    return found


def table_rows(text):
    lines = text.splitlines()
    first, end = sync_readme.find_table(lines)
    return lines[first + 2 : end]


def test_readme_links_are_what_make_links_writes():
    readme = README.read_text()
    assert sync_readme.sync(readme) == readme, "README.md is stale with respect to course.toml: run `make links`"


def test_every_launch_link_is_well_formed_and_opens_the_release():
    found = launch_links(README.read_text())
    assert found["binder"] and found["colab"]
    for kind, parse in (("binder", binder_target), ("colab", colab_target)):
        for label, url in found[kind]:
            slug, ref, notebook = parse(url)
            assert (slug, ref) == (course.slug(), course.release()), f"{url}: not {course.slug()} at {course.release()}"
            assert (ROOT / notebook).is_file(), f"{url}: {notebook} does not exist"
            assert {"binder": "Binder", "colab": "Colab"}[kind] in label, f"{url}: its text {label!r} must name it"


def test_every_notebook_row_has_its_binder_and_colab_link_and_what_you_learn():
    rows = table_rows(README.read_text())
    assert len(rows) == len(course.lessons())
    for lesson, row in zip(course.lessons(), rows, strict=True):
        assert f"]({lesson.path.as_posix()})" in row, f"README's table: row for {lesson.path.name} out of order"
        found = launch_links(row)
        assert [binder_target(url)[2] for _, url in found["binder"]] == [lesson.path.as_posix()], row
        assert [colab_target(url)[2] for _, url in found["colab"]] == [lesson.path.as_posix()], row
        assert sync_readme.cells(row)[sync_readme.LEARN_COLUMN], f"README: write what {lesson.path.name} teaches"


@pytest.mark.parametrize(
    "url",
    [
        "http://mybinder.org/v2/gh/losslab/losslab/v1?urlpath=lab/tree/notebooks/01_logits_and_softmax.ipynb",
        "https://mybinder.org/v2/gh/losslab/losslab?urlpath=lab/tree/notebooks/01_logits_and_softmax.ipynb",
        "https://mybinder.org/v2/gh/losslab/losslab/v1?urlpath=tree/notebooks/01_logits_and_softmax.ipynb",
        "https://mybinder.org/v2/gh/losslab/losslab/v1?filepath=notebooks/01_logits_and_softmax.ipynb",
        "https://mybinder.org/v2/gh/losslab/losslab/v1?urlpath=lab/tree/01_logits_and_softmax.ipynb",
        "https://mybinder.org/v2/gl/losslab/losslab/v1?urlpath=lab/tree/notebooks/01_logits_and_softmax.ipynb",
    ],
)
def test_a_malformed_binder_link_is_refused(url):
    with pytest.raises(AssertionError):
        binder_target(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://colab.research.google.com/github/losslab/losslab/tree/v1/notebooks/01_logits_and_softmax.ipynb",
        "https://colab.research.google.com/github/losslab/losslab/blob/v1/01_logits_and_softmax.ipynb",
        "https://colab.research.google.com/drive/losslab/losslab/blob/v1/notebooks/01_logits_and_softmax.ipynb",
        "https://colab.google.com/github/losslab/losslab/blob/v1/notebooks/01_logits_and_softmax.ipynb",
    ],
)
def test_a_malformed_colab_link_is_refused(url):
    with pytest.raises(AssertionError):
        colab_target(url)


def test_a_fork_changes_one_line_and_make_links_follows(monkeypatch):
    readme = README.read_text()
    real = course.config()
    monkeypatch.setattr(
        course, "config", lambda: {"repository": "https://github.com/a-fork/loss-lab.git", "release": "v9"}
    )
    forked = sync_readme.sync(readme)
    assert sync_readme.sync(forked) == forked
    found = launch_links(forked)
    assert len(found["binder"]) == len(launch_links(readme)["binder"])
    for url in [url for _, url in found["binder"]]:
        assert binder_target(url)[:2] == ("a-fork/loss-lab", "v9")
    for url in [url for _, url in found["colab"]]:
        assert colab_target(url)[:2] == ("a-fork/loss-lab", "v9")
    assert sync_readme.learned(forked) == sync_readme.learned(readme), "What you learn must stay as written"
    monkeypatch.setattr(course, "config", lambda: real)
    assert sync_readme.sync(forked) == readme


@pytest.mark.parametrize(
    "address",
    [
        "https://gitlab.com/losslab/losslab",
        "http://github.com/losslab/losslab",
        "git@github.com:losslab/losslab.git",
        "https://github.com/losslab",
        "https://github.com/losslab/losslab/tree/main",
        "https://github.com.example.org/losslab/losslab",
    ],
)
def test_slug_refuses_an_address_that_is_not_a_github_repository(monkeypatch, address):
    monkeypatch.setattr(course, "config", lambda: {"repository": address, "release": "v1"})
    with pytest.raises(ValueError, match="github.com/OWNER/NAME"):
        course.slug()


def test_pitch_reads_on_its_own():
    """The course website's index page shows the text before the README's first section as it is."""
    readme = README.read_text()
    title, _, rest = readme.partition("\n")
    assert title.startswith("# losslab: ")
    pitch = rest.split("\n## ", 1)[0]
    assert pitch.strip(), "README: the pitch comes before the first section"
    assert not images(pitch), "the pitch holds no image"
    relative = [target for _, target in links(pitch) if not re.match(r"^https?://", target)]
    assert not relative, f"the pitch must not link relatively (the website's index is elsewhere): {relative}"


def heading_anchors(text):
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6} (.+?)\s*$", FENCED_CODE.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", "")).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_and_images_lead_to_files_that_exist(page):
    for _, target in links(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"
        assert file.exists(), f"{page.name}: {target} names no file"
        if anchor and file.suffix == ".md":
            assert anchor in heading_anchors(file.read_text()), f"{page.name}: {target}: no such heading"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_image_says_what_it_shows(page):
    for alt, target in images(page.read_text()):
        assert len(alt.split()) >= 3, f"{page.name}: {target} needs alt text that says what it shows"
