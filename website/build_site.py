"""`make site`: the course as a static website that works offline.

OUTDIR/index.html is the README's pitch and the table of lessons (course.lessons(): times, Binder and
Colab links); OUTDIR/notebooks/NN_topic.html is each notebook with its saved outputs, in order, with
previous and next links. The site mirrors the repository's layout (figs/ is copied in), so the relative
links of the README and of the notebooks keep working; a link to a notebook goes to its page, and a link
to any other file of the repository goes to that file on GitHub at the course's release.

The pages are nbconvert's HTML export (a template of ours, website/templates/losslab_site, on top of
nbconvert's lab template): no kernel runs. Widgets render from the notebook's saved widget state and
formulas are typeset, with the Jupyter widgets HTML manager, require.js and MathJax 2 copied into the
site from the npm packages of slides/package-lock.json (`make site` installs them into build/npm), as
the slide decks do (slides/build_decks.py). A page loads nothing from outside the site's folder.

Every image a notebook's outputs show needs its alt text, in the cell's metadata: `"alt": ["...", ...]`,
one text per output that shows an image (a figure, or an explorer's chart), in output order. The build
stops at an image without one.

Usage: python website/build_site.py NODE_MODULES OUTDIR
"""

import posixpath
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "slides")]  # as a script: course.py, sync_readme.py, build_decks.py
import course  # noqa: E402
import sync_readme  # noqa: E402
from build_decks import PAGE_ASSETS, copy_assets, offline_urls  # noqa: E402
from build_decks import TEMPLATES as SHARED_TEMPLATES  # noqa: E402

TEMPLATES = Path(__file__).resolve().parent / "templates"
SITE_NAME = "losslab"
IMAGE_TYPES = ("application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg", "image/svg+xml")
COPIED = ("figs",)  # repository folders the site holds as they are
# A markdown link or image, `[text](target "title")`, and an HTML src or href attribute.
MARKDOWN_LINK = re.compile(r"(!?)\[([^\[\]]*)\]\(\s*([^)\s]+)(\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""\b(src|href)=(["'])([^"']+)\2""")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:|^//|^#", re.IGNORECASE)


def exporter(prefix, prompts=True):
    """The HTML exporter for pages `prefix` ("" or "../") away from the site's root; `prompts`: show the
    cells' In/Out prompts."""
    config = Config()
    config.HTMLExporter.exclude_input_prompt = not prompts
    config.HTMLExporter.exclude_output_prompt = not prompts
    config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.HTMLExporter.extra_template_paths = [str(SHARED_TEMPLATES)]  # losslab_offline.html.j2
    config.HTMLExporter.template_name = "losslab_site"
    offline_urls(config.HTMLExporter, prefix)
    return HTMLExporter(config=config)


def pitch(readme):
    """(title, markdown) of the README: its `# ` heading and what comes before its first `## ` heading."""
    lines = readme.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# "))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start][2:].strip(), "\n".join(lines[start + 1 : end]).strip()


def site_target(url, folder):
    """What a link `url` written in a file of the repository's `folder` points to on the site: a lesson's
    page for a lesson notebook, the file itself if the site holds it, else the file on GitHub at the
    release; None for a file the repository does not have."""
    path, hash_, fragment = url.partition("#")
    repo_path = posixpath.normpath(posixpath.join(folder, path))
    if repo_path.startswith("../") or not (ROOT / repo_path).exists():
        return None
    if repo_path in {lesson.path.as_posix() for lesson in course.lessons()}:
        return f"{path[: -len('.ipynb')]}.html{hash_}{fragment}"
    if repo_path.split("/")[0] in COPIED:
        return url
    return f"{course.repository()}/blob/{course.release()}/{repo_path}{hash_}{fragment}"


def site_links(markdown, folder):
    """`markdown` (of a file in the repository's `folder`) with its links pointing where they work on the
    site. An image from outside the site (a badge) becomes its alt text: the site loads nothing from
    elsewhere; a link to a file the repository lacks becomes its text."""

    def markdown_link(match):
        bang, text, url, title = match.groups()
        if EXTERNAL.match(url):
            return text if bang and not url.startswith("#") else match[0]
        target = site_target(url, folder)
        return text if target is None else f"{bang}[{text}]({target}{title or ''})"

    def html_link(match):
        attribute, quote, url = match.groups()
        if EXTERNAL.match(url):
            if attribute == "src" and not url.startswith(("data:", "#")):
                raise SystemExit(f"{folder}: the image {url!r} is not in the site, which loads nothing from elsewhere")
            return match[0]
        target = site_target(url, folder)
        if target is None:
            raise SystemExit(f"{folder}: {attribute}={url!r} names a file the repository does not have")
        return f"{attribute}={quote}{target}{quote}"

    # Images first: a linked badge, [![alt](image)](link), is a link once its image is text.
    markdown = MARKDOWN_LINK.sub(lambda m: markdown_link(m) if m[1] else m[0], markdown)
    markdown = MARKDOWN_LINK.sub(markdown_link, markdown)
    return HTML_LINK.sub(html_link, markdown)


def attach_alt(nb, name):
    """Give each image output of `nb` its alt text from its cell's "alt" metadata (in memory only)."""
    missing = []
    for index, cell in enumerate(nb.cells):
        shown = [out for out in cell.get("outputs", []) if any(t in out.get("data", {}) for t in IMAGE_TYPES)]
        alts = cell.metadata.get("alt", [])
        if len(alts) != len(shown):
            missing.append(f"cell {index} shows {len(shown)} image(s) and has {len(alts)} alt text(s)")
            continue
        for output, alt in zip(shown, alts, strict=True):
            output.metadata["alt"] = alt
    if missing:
        raise SystemExit(
            f'{name}: every image needs its alt text, in its cell\'s metadata as "alt": [one per image]: '
            + "; ".join(missing)
        )


def lesson_table(lessons, learned):
    """The lessons as a markdown table, each linked to its page, with its times and launch links."""
    rows = [
        "| # | Lesson | What you learn | Lecture | Self-study | Run it |",
        "|---|--------|----------------|---------|------------|--------|",
    ]
    for lesson in lessons:
        launch = f"[Binder]({course.binder_url(lesson.path)}) · [Colab]({course.colab_url(lesson.path)})"
        rows.append(
            f"| {lesson.number} | [{lesson.title}]({page_path(lesson)}) | {learned.get(lesson.path.name, '')} "
            f"| {lesson.lecture_min} min | {lesson.self_study_min} min | {launch} |"
        )
    return "\n".join(rows)


def page_path(lesson):
    """A lesson's page, relative to the site's root (the notebook's path, as .html)."""
    return lesson.path.with_suffix(".html").as_posix()


def index_notebook(readme, lessons):
    """The index page as a notebook of markdown cells: the README's title and pitch, then the lessons."""
    title, text = pitch(readme)
    cells = [f"# {title}", site_links(text, ""), "## The lessons", lesson_table(lessons, sync_readme.learned(readme))]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(cell, id=f"index-{i}") for i, cell in enumerate(cells)]
    )
    nb.metadata.title = title
    return nb


def lesson_notebook(lesson):
    """The lesson's notebook, read from disk, with its links and alt texts made ready for its page."""
    nb = nbformat.read(ROOT / lesson.path, as_version=4)
    folder = lesson.path.parent.as_posix()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = site_links(cell.source, folder)
    attach_alt(nb, lesson.path.as_posix())
    nb.metadata.title = f"{lesson.number} · {lesson.title} · {SITE_NAME}"
    return nb


def neighbour(lesson, root):
    return None if lesson is None else {"href": root + page_path(lesson), "label": f"{lesson.number} · {lesson.title}"}


def write_page(outdir, path, body):
    page = outdir / path
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(body, encoding="utf-8")
    print(f"wrote {page}")
    return page


def build(node_modules, outdir):
    """Write the site into `outdir`; return the pages written, the index first."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    copy_assets(node_modules, outdir, PAGE_ASSETS)
    for folder in COPIED:
        shutil.copytree(ROOT / folder, outdir / folder, dirs_exist_ok=True)
    lessons = course.lessons()
    index = {"name": SITE_NAME, "index": "index.html", "lessons": len(lessons)}
    body, _ = exporter("", prompts=False).from_notebook_node(
        index_notebook((ROOT / "README.md").read_text(encoding="utf-8"), lessons),
        resources={"metadata": {"name": SITE_NAME}, "site": index},
    )
    pages = [write_page(outdir, "index.html", body)]
    page_exporter = exporter("../")  # every lesson's page sits in notebooks/
    for i, lesson in enumerate(lessons):
        site = {
            "name": SITE_NAME,
            "index": "../index.html",
            "lessons": len(lessons),
            "lesson": lesson,
            "previous": neighbour(lessons[i - 1] if i else None, "../"),
            "next": neighbour(lessons[i + 1] if i + 1 < len(lessons) else None, "../"),
            "binder": course.binder_url(lesson.path),
            "colab": course.colab_url(lesson.path),
        }
        body, _ = page_exporter.from_notebook_node(
            lesson_notebook(lesson), resources={"metadata": {"name": lesson.path.stem}, "site": site}
        )
        pages.append(write_page(outdir, page_path(lesson), body))
    return pages


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(sys.argv[1], sys.argv[2])
