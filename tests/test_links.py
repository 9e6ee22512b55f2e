"""The README's launch links come from course.toml, and every link in the README and docs/ leads somewhere.

A Binder, Colab or class-hub (nbgitpuller) link that names the wrong repository, release or notebook fails only when a learner
clicks it, so the links are parsed here rather than compared as strings: a link `make links` would
write wrongly fails too.
"""

import html
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


# nbgitpuller's link generator percent-encodes every value (encodeURIComponent): a raw "&", "#" or "+" in
# one would cut or change it, so nothing but unreserved characters and escapes may stand between the "=" and "&".
ENCODED_QUERY = re.compile(r"^[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~%-]*(?:&[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~%-]*)*$")
NBGITPULLER_PATH = "/hub/user-redirect/git-pull"


def nbgitpuller_target(url):
    """(hub, repo, branch, notebook) of an nbgitpuller link that clones the course into the student's home
    and opens a notebook of it in JupyterLab (nbgitpuller 1.3.0's parameters: repo, branch, targetpath,
    urlpath)."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc, f"{url}: not an http(s) address"
    assert parts.path.endswith(NBGITPULLER_PATH), f"{url}: the path must end with {NBGITPULLER_PATH}"
    assert ENCODED_QUERY.match(parts.query), f"{url}: every query value must be percent-encoded"
    query = parse_qs(parts.query, strict_parsing=True)
    assert sorted(query) == ["branch", "repo", "targetpath", "urlpath"], (
        f"{url}: the query must be repo, branch, targetpath and urlpath"
    )
    assert all(len(values) == 1 for values in query.values()), f"{url}: each parameter once"
    folder, urlpath = query["targetpath"][0], query["urlpath"][0]
    assert re.match(r"^[A-Za-z0-9._-]+$", folder), f"{url}: targetpath must be one folder"
    assert urlpath.startswith(f"lab/tree/{folder}/"), f"{url}: urlpath must open JupyterLab in {folder}/"
    notebook = urlpath.removeprefix(f"lab/tree/{folder}/")
    assert NOTEBOOK_PATH.match(notebook), f"{url}: urlpath must name {folder}/notebooks/NN_topic.ipynb"
    assert not parts.fragment, f"{url}: no fragment"
    hub = f"{parts.scheme}://{parts.netloc}{parts.path.removesuffix(NBGITPULLER_PATH)}"
    return hub, query["repo"][0], query["branch"][0], notebook


def launch_links(text):
    """{"binder" | "colab" | "hub": [(link text, url)]} for every Binder, Colab or nbgitpuller link."""
    found = {"binder": [], "colab": [], "hub": []}
    for label, target in links(text):
        parts = urlsplit(target)
        if "mybinder" in parts.netloc:
            found["binder"].append((label, target))
        elif "colab" in parts.netloc:
            found["colab"].append((label, target))
        elif "git-pull" in parts.path:
            found["hub"].append((label, target))
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


def test_every_hub_link_is_well_formed_and_pulls_the_course_from_course_toml():
    found = launch_links(README.read_text())["hub"]
    assert found
    for label, url in found:
        hub, repo, branch, notebook = nbgitpuller_target(url)
        assert (hub, repo, branch) == (course.hub(), course.repository(), course.branch()), (
            f"{url}: not {course.repository()} at {course.branch()} on {course.hub()}"
        )
        assert parse_qs(urlsplit(url).query)["targetpath"] == [course.clone_folder()], url
        assert (ROOT / notebook).is_file(), f"{url}: {notebook} does not exist"
        assert "hub" in label, f"{url}: its text {label!r} must say it opens on the class hub"


def test_every_notebook_row_has_its_binder_and_colab_link_and_what_you_learn():
    rows = table_rows(README.read_text())
    assert len(rows) == len(course.lessons())
    for lesson, row in zip(course.lessons(), rows, strict=True):
        assert f"]({lesson.path.as_posix()})" in row, f"README's table: row for {lesson.path.name} out of order"
        found = launch_links(row)
        assert [binder_target(url)[2] for _, url in found["binder"]] == [lesson.path.as_posix()], row
        assert [colab_target(url)[2] for _, url in found["colab"]] == [lesson.path.as_posix()], row
        assert [nbgitpuller_target(url)[3] for _, url in found["hub"]] == [lesson.path.as_posix()], row
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


HUB_QUERY = "repo=https%3A%2F%2Fgithub.com%2Flosslab%2Flosslab&branch=main&targetpath=losslab"
HUB_URLPATH = "urlpath=lab%2Ftree%2Flosslab%2Fnotebooks%2F01_logits_and_softmax.ipynb"


def test_a_well_formed_hub_link_is_read_back():
    url = f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}&{HUB_URLPATH}"
    assert nbgitpuller_target(url) == (
        "http://localhost:8000",
        "https://github.com/losslab/losslab",
        "main",
        "notebooks/01_logits_and_softmax.ipynb",
    )


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}&{HUB_URLPATH}",
        f"http://localhost:8000/user/ada/git-pull?{HUB_QUERY}&{HUB_URLPATH}",  # one student's server only
        f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}",  # opens no notebook
        f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY.replace('&targetpath=losslab', '')}&{HUB_URLPATH}",
        f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}&{HUB_URLPATH.replace('lab%2Ftree', 'tree')}",
        f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}&{HUB_URLPATH.replace('%2Flosslab%2F', '%2Fother%2F')}",
        f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}&{HUB_URLPATH.replace('%2Fnotebooks', '')}",
        "http://localhost:8000/hub/user-redirect/git-pull?repo=https://github.com/losslab/losslab&branch=main"
        f"&targetpath=losslab&{HUB_URLPATH}",  # not encoded
        f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}&{HUB_URLPATH}&branch=v1",
        f"http://localhost:8000/hub/user-redirect/git-pull?{HUB_QUERY}&{HUB_URLPATH}#top",
    ],
)
def test_a_malformed_hub_link_is_refused(url):
    with pytest.raises(AssertionError):
        nbgitpuller_target(url)


def test_the_hub_link_encodes_a_repository_address_with_reserved_characters():
    """A local repository's path (what tests/test_nbgitpuller.py pulls from) survives the query intact."""
    repo = "file:///tmp/a class/losslab.git?x=1&y=#2+3"
    url = course.nbgitpuller_url("notebooks/01_logits_and_softmax.ipynb", hub_url="http://127.0.0.1:9/", repo=repo)
    assert nbgitpuller_target(url) == (
        "http://127.0.0.1:9",
        repo,
        course.branch(),
        "notebooks/01_logits_and_softmax.ipynb",
    )


def test_the_hub_landing_page_links_every_lesson_in_order():
    """course.hub_landing_html: the text the hub shows its students, one nbgitpuller link per lesson."""
    page = course.hub_landing_html()
    found = HTML_TARGET.findall(page)
    assert [nbgitpuller_target(html.unescape(url))[3] for url in found] == [
        lesson.path.as_posix() for lesson in course.lessons()
    ]
    for lesson in course.lessons():
        assert f"{lesson.number} · {html.escape(lesson.title)}</a>" in page
    relative = HTML_TARGET.findall(course.hub_landing_html(hub_url=""))
    assert all(url.startswith(NBGITPULLER_PATH + "?") for url in relative), "hub_url='' must give /hub/... links"


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
    forked_config = {
        "repository": "https://github.com/a-fork/loss-lab.git",
        "release": "v9",
        "hub": "https://hub.example.edu/",
        "branch": "fall-term",
    }
    monkeypatch.setattr(course, "config", lambda: forked_config)
    forked = sync_readme.sync(readme)
    assert sync_readme.sync(forked) == forked
    found = launch_links(forked)
    assert len(found["binder"]) == len(launch_links(readme)["binder"])
    for url in [url for _, url in found["binder"]]:
        assert binder_target(url)[:2] == ("a-fork/loss-lab", "v9")
    for url in [url for _, url in found["colab"]]:
        assert colab_target(url)[:2] == ("a-fork/loss-lab", "v9")
    assert len(found["hub"]) == len(launch_links(readme)["hub"])
    for url in [url for _, url in found["hub"]]:
        assert nbgitpuller_target(url)[:3] == ("https://hub.example.edu", forked_config["repository"], "fall-term")
        assert parse_qs(urlsplit(url).query)["targetpath"] == ["loss-lab"]
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


def test_make_links_rewrites_an_nbgitpuller_link_outside_the_table():
    """A link in the prose (e.g. a section on teaching a class) follows course.toml like the table's."""
    old = f"http://old-hub:8000/hub/user-redirect/git-pull?{HUB_QUERY.replace('main', 'spring')}&{HUB_URLPATH}"
    readme = README.read_text() + f"\nOpen [notebook 01 on the class hub]({old}).\n"
    synced = sync_readme.sync(readme)
    assert old not in synced
    assert f"({course.nbgitpuller_url('notebooks/01_logits_and_softmax.ipynb')})." in synced
