"""`make site`: the course website, built here into a temporary folder exactly as `make site` builds it.

Without a browser: the index lists every lesson in order with its times and launch links, each page
links its neighbours and the index, every notebook is on its page with all its cells and figures, a page
names nothing outside the site and no link inside the site is broken, and every image a notebook shows
has an alt text that says what it shows, in its cell's metadata (website/build_site.py refuses to build
a page with an image without one). The helpers that make the site's links are tested on small cases.

In Chromium (marked "browser"), the site is served on a free localhost port with every other request
refused and recorded. Every page loads with no console error and no failed or refused request; every
formula is typeset by the site's MathJax, with no TeX error; every widget renders from the saved widget
state, its readout showing the saved text and its chart the saved PNG, byte for byte; every image has a
meaningful alt text; axe-core finds no serious or critical accessibility violation. A screenshot of
each page goes to a temporary folder (its path is printed). A lesson opened straight from disk
(file://), as the README suggests, renders too.
"""

import json
import os
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_slides import QUEUE_MATH_DONE, UNTYPESET_MATH

import course
from build_site import IMAGE_TYPES, attach_alt, pitch, site_links, site_target
from losslab.widgets.toolkit import plain_text
from servers import static_server

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = Path(os.environ.get("LOSSLAB_NODE_MODULES", ROOT / "build" / "npm" / "node_modules"))
LESSONS = course.lessons()
PAGES = ["index.html"] + [lesson.path.with_suffix(".html").as_posix() for lesson in LESSONS]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MODEL_REFERENCE = re.compile(r"IPY_MODEL_([0-9a-f]{32})")
READOUT_CLASS = "losslab-readout"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not NODE_MODULES.is_dir():
        pytest.fail(f"{NODE_MODULES} is missing: `make test` (or `make site`) installs slides/package-lock.json there")
    from build_site import build

    outdir = tmp_path_factory.mktemp("site")
    build(NODE_MODULES, outdir)
    return outdir


def read_page(site, page):
    return (site / page).read_text(encoding="utf-8")


each_lesson = pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.path.stem)
each_page = pytest.mark.parametrize("page", PAGES)


# --- Alt texts ----------------------------------------------------------------------------------------------

# An alt text says what the image shows: a sentence, not a file name or a word like "figure".
PLACEHOLDER = re.compile(r"^\W*(image|img|figure|fig|chart|plot|graph|picture|png|output|widget)?\W*\d*\W*$", re.I)
FILE_NAME = re.compile(r"\.(png|jpe?g|gif|svg|webp)\b", re.I)
MIN_ALT_WORDS = 6


def meaningful_alt(alt):
    alt = (alt or "").strip()
    return len(alt.split()) >= MIN_ALT_WORDS and not PLACEHOLDER.match(alt) and not FILE_NAME.search(alt)


def test_meaningful_alt_refuses_placeholders():
    for alt in [None, "", "png", "Figure 1", "chart", "01_softmax_temperatures.png", "a plot of the loss"]:
        assert not meaningful_alt(alt), alt
    assert meaningful_alt("The loss ℓ = −log p_y against p_y, falling from infinity to 0")


def image_outputs(cell):
    return [out for out in cell.get("outputs", []) if any(t in out.get("data", {}) for t in IMAGE_TYPES)]


@each_lesson
def test_every_image_a_notebook_shows_has_its_alt_text(lesson):
    nb = nbformat.read(ROOT / lesson.path, as_version=4)
    shown = 0
    for index, cell in enumerate(nb.cells):
        images, alts = image_outputs(cell), cell.metadata.get("alt", [])
        shown += len(images)
        assert len(alts) == len(images), f"cell {index} shows {len(images)} images; its metadata has alt {alts}"
        for alt in alts:
            assert meaningful_alt(alt), f"cell {index}: alt {alt!r} does not say what the image shows"
    assert shown > 0, "a lesson without a figure or an explorer"


def test_the_build_refuses_an_image_without_alt_text():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"image/png": "iVBO"})])]
    )
    with pytest.raises(SystemExit, match="cell 0 shows 1 image"):
        attach_alt(nb, "x.ipynb")
    nb.cells[0].metadata["alt"] = ["The loss against the logit, falling to 0"]
    attach_alt(nb, "x.ipynb")
    assert nb.cells[0].outputs[0].metadata["alt"] == "The loss against the logit, falling to 0"


# --- The site's links ---------------------------------------------------------------------------------------


def test_the_pitch_is_what_comes_between_the_readme_title_and_its_first_section():
    readme = "# losslab: a title\n\nThe pitch, `code`.\n\nMore pitch.\n\n## Open the course\n\nNot the pitch.\n"
    assert pitch(readme) == ("losslab: a title", "The pitch, `code`.\n\nMore pitch.")


def test_links_point_where_they_work_on_the_site():
    lesson = LESSONS[1].path  # notebooks/02_...ipynb
    blob = f"{course.repository()}/blob/{course.release()}"
    assert site_target(lesson.as_posix(), "") == lesson.with_suffix(".html").as_posix()
    assert site_target(f"{lesson.name}#exercises", "notebooks") == f"{lesson.stem}.html#exercises"
    assert site_target("../figs/07_which_loss_takes_what.png", "notebooks") == "../figs/07_which_loss_takes_what.png"
    assert site_target("losslab/notation.md", "notebooks") == f"{blob}/notebooks/losslab/notation.md"
    assert site_target("no_such_file.md", "") is None
    markdown = (
        "[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/x) and "
        "[the notation](notebooks/losslab/notation.md), [gone](gone.md), ![the figure](figs/x.png), [top](#top)"
    )
    assert site_links(markdown, "") == (
        "[Binder](https://mybinder.org/v2/gh/x) and "
        f"[the notation]({blob}/notebooks/losslab/notation.md), gone, the figure, [top](#top)"
    )
    with pytest.raises(SystemExit, match="is not in the site"):
        site_links('<img src="https://example.org/a.png" alt="a">', "")


class Links(HTMLParser):
    """Every (tag, attribute, url) of a page's src and href attributes, and its table rows' cells."""

    def __init__(self):
        super().__init__()
        self.urls, self.rows, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for attribute in ("src", "href"):
            if attrs.get(attribute):
                self.urls.append((tag, attribute, attrs[attribute], attrs.get("rel")))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a" and self._cell is not None:
            self._cell.append(f"<{attrs.get('href')}>")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parsed(site, page):
    parser = Links()
    parser.feed(read_page(site, page))
    return parser


@each_page
def test_a_page_loads_nothing_from_outside_the_site_and_links_only_to_pages_it_has(site, page):
    for tag, attribute, url, _ in parsed(site, page).urls:
        if url.startswith(("data:", "#")):
            continue
        if tag != "a":  # something the page loads
            assert "//" not in url, f"{page}: <{tag} {attribute}={url!r}> points outside the site"
        if urlparse(url).scheme:
            continue  # a link to follow (Binder, Colab, GitHub), not loaded
        target = urlparse(urljoin(f"http://site/{page}", url)).path.lstrip("/")
        assert (site / target).is_file(), f"{page}: {attribute}={url!r} names {target}, which the site lacks"


def test_the_index_lists_every_lesson_with_its_times_and_launch_links(site):
    rows = [row for row in parsed(site, "index.html").rows if row and row[0] != "#"]
    assert len(rows) == len(LESSONS)
    for row, lesson in zip(rows, LESSONS, strict=True):
        number, title, learned, lecture, self_study, launch = row
        assert number == lesson.number
        assert title == f"<{lesson.path.with_suffix('.html').as_posix()}>{lesson.title}"
        assert learned, f"lesson {lesson.number} has no 'What you learn'"
        assert (lecture, self_study) == (f"{lesson.lecture_min} min", f"{lesson.self_study_min} min")
        assert launch == f"<{course.binder_url(lesson.path)}>Binder · <{course.colab_url(lesson.path)}>Colab"


@each_lesson
def test_a_lesson_page_links_its_neighbours_the_index_and_its_launch_links(site, lesson):
    page = lesson.path.with_suffix(".html").as_posix()
    links = parsed(site, page).urls
    position = LESSONS.index(lesson)
    for rel, neighbour in (("prev", position - 1), ("next", position + 1)):
        has_one = 0 <= neighbour < len(LESSONS)
        expected = [f"../{LESSONS[neighbour].path.with_suffix('.html').as_posix()}"] * 2 if has_one else []
        assert [url for _, _, url, link_rel in links if link_rel == rel] == expected, f"{rel} links"
    hrefs = {url for tag, _, url, _ in links if tag == "a"}
    assert {"../index.html", course.binder_url(lesson.path), course.colab_url(lesson.path)} <= hrefs


@each_lesson
def test_a_lesson_page_holds_every_cell_and_figure_of_its_notebook(site, lesson):
    nb = nbformat.read(ROOT / lesson.path, as_version=4)
    page = lesson.path.with_suffix(".html").as_posix()
    html = read_page(site, page)
    assert html.count('class="jp-Cell ') == len(nb.cells)
    shown = [out for cell in nb.cells for out in image_outputs(cell)]
    figures = [f"data:image/png;base64,{out.data['image/png'].strip()}" for out in shown if WIDGET_VIEW not in out.data]
    assert [url for tag, _, url, _ in parsed(site, page).urls if tag == "img"] == figures
    assert html.count(f'<script type="{WIDGET_VIEW}">') == len(shown) - len(figures)


@each_lesson
def test_a_lesson_page_keeps_the_solutions_collapsed(site, lesson):
    nb = nbformat.read(ROOT / lesson.path, as_version=4)
    hidden = [cell for cell in nb.cells if cell.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden and all("solution" in cell.metadata.get("tags", []) for cell in hidden)
    boxes = re.findall(
        r'<details class="losslab-hidden-source">\s*<summary>Show the solution</summary>(.*?)</details>',
        read_page(site, lesson.path.with_suffix(".html").as_posix()),
        re.S,
    )
    assert len(boxes) == len(hidden)
    for box, cell in zip(boxes, hidden, strict=True):
        first_name = re.search(r"def (\w+)", cell.source)[1]
        assert first_name in re.sub(r"<[^>]+>", "", box), f"the box does not hold the solution defining {first_name}"


# --- In Chromium --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_server(site):
    """The site over HTTP on a free localhost port."""
    with static_server(site) as url:
        yield url


@pytest.fixture(scope="module")
def screenshots(request):
    folder = Path(tempfile.mkdtemp(prefix="losslab-site-screenshots-"))
    yield folder
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print(f"\nsite screenshots: {folder}")


LOADED_MS = 60_000
# Before the page's scripts: record every MathJax TeX error and processing error (MathJax 2 reads
# window.MathJax.AuthorInit before it starts).
RECORD_MATH_ERRORS = """window.losslabMathErrors = [];
window.MathJax = {AuthorInit: () => ['TeX Jax - parse error', 'Math Processing Error'].forEach(hook =>
    MathJax.Hub.Register.MessageHook(hook, message => window.losslabMathErrors.push(String(message)))),
};"""
# MathJax has typeset the page, and the widget manager has rendered every saved view.
READY = """() => window.losslabMathDone === true
    && document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length
       === [...document.querySelectorAll('.widget-subarea')].filter(area => area.children.length).length"""
IMAGES = "() => [...document.images].map(image => ({alt: image.alt, loaded: image.complete && image.naturalWidth > 0}))"
# Each explorer's chart as the page shows it: the bytes of its <img> (a blob the widget manager made).
WIDGET_CHARTS = """() => Promise.all([...document.querySelectorAll('.jupyter-widgets img')].map(async image => {
    const bytes = new Uint8Array(await (await fetch(image.src)).arrayBuffer());
    let text = '';
    bytes.forEach(byte => { text += String.fromCharCode(byte); });
    return btoa(text);
}))"""
READOUTS = f"() => [...document.querySelectorAll('.{READOUT_CLASS}')].map(readout => readout.innerHTML)"


def displayed_models(nb):
    """The saved widget models that the notebook's outputs display, and every model inside them."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    views = [out.data[WIDGET_VIEW] for cell in nb.cells for out in image_outputs(cell) if WIDGET_VIEW in out.data]
    found, todo = {}, [view["model_id"] for view in views]
    while todo:
        model_id = todo.pop()
        if model_id in state and model_id not in found:
            found[model_id] = state[model_id]
            todo += MODEL_REFERENCE.findall(json.dumps(state[model_id]["state"]))
    return found.values()


def saved_charts(nb):
    return sorted(
        buffer["data"]
        for model in displayed_models(nb)
        if model["model_name"] == "ImageModel"
        for buffer in model.get("buffers", [])
        if buffer["path"] == ["value"]
    )


def saved_readouts(nb):
    return sorted(
        plain_text(model["state"]["value"])
        for model in displayed_models(nb)
        if READOUT_CLASS in model["state"].get("_dom_classes", [])
    )


def expected_alts(nb):
    return [alt for cell in nb.cells for alt in cell.metadata.get("alt", [])]


def open_offline(chromium, url, allowed):
    """A new page at `url` that may load only URLs starting with `allowed`; what it did goes in `record`."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    record = {"refused": [], "failed": [], "console errors": [], "page errors": []}

    def only_the_site(route):
        if route.request.url.startswith((allowed, "data:", "blob:")):
            route.continue_()
        else:
            record["refused"].append(route.request.url)
            route.abort()

    def failed_response(response):
        if response.status >= 400:
            record["failed"].append(f"{response.url}: HTTP {response.status}")

    page.route("**/*", only_the_site)
    page.on("requestfailed", lambda request: record["failed"].append(f"{request.url}: {request.failure}"))
    page.on("response", failed_response)
    page.on("console", lambda message: message.type == "error" and record["console errors"].append(message.text))
    page.on("pageerror", lambda error: record["page errors"].append(str(error)))
    page.add_init_script(RECORD_MATH_ERRORS)
    page.goto(url)
    try:
        page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.Queue", timeout=LOADED_MS)
        page.evaluate(QUEUE_MATH_DONE)
        page.wait_for_function(READY, timeout=LOADED_MS, polling=100)
    except PlaywrightTimeout:
        page.close()
        pytest.fail(f"{url}: MathJax or the widgets never finished: {record}")
    return page, record


def check_rendered(page, record, nb):
    """What every page must show once loaded: nothing refused or failed, formulas typeset, images described,
    and each widget (of the notebook `nb`, None for the index) as the notebook saved it."""
    assert record == {"refused": [], "failed": [], "console errors": [], "page errors": []}
    assert page.evaluate("() => window.losslabMathErrors") == [], "MathJax could not typeset a formula"
    assert page.evaluate(UNTYPESET_MATH) == [], "formulas left untypeset"
    assert "Error displaying widget" not in page.evaluate("() => document.body.textContent")
    images = page.evaluate(IMAGES)
    assert all(image["loaded"] for image in images), f"images that did not load: {images}"
    for image in images:
        assert meaningful_alt(image["alt"]), f"an image without a meaningful alt text: {image['alt']!r}"
    if nb is None:
        return
    assert page.evaluate("() => MathJax.Hub.getAllJax().length") > 0, "no formula typeset"
    assert [image["alt"] for image in images] == expected_alts(nb), "the images' alt texts, in order"
    assert sorted(page.evaluate(WIDGET_CHARTS)) == saved_charts(nb), "a chart differs from the saved one"
    shown = sorted(plain_text(html) for html in page.evaluate(READOUTS))
    assert shown == saved_readouts(nb) and shown, "a readout differs from the saved one"


def serious_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: {[node['target'] for node in v['nodes'][:5]]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.browser
@each_page
def test_a_page_renders_offline_and_accessibly(chromium, site_server, page, screenshots):
    lesson = next((lesson for lesson in LESSONS if lesson.path.with_suffix(".html").as_posix() == page), None)
    nb = nbformat.read(ROOT / lesson.path, as_version=4) if lesson else None
    tab, record = open_offline(chromium, site_server + page, site_server)
    shot = screenshots / f"{Path(page).stem}.png"
    try:
        check_rendered(tab, record, nb)
        assert serious_violations(tab) == [], f"axe-core: serious or critical violations (screenshot: {shot})"
        assert record["refused"] == [] and record["failed"] == []
    finally:
        tab.screenshot(path=shot, full_page=True)
        tab.close()


@pytest.mark.browser
def test_a_lesson_opened_from_disk_renders(chromium, site):
    lesson = LESSONS[0]
    folder = site.resolve().as_uri() + "/"
    tab, record = open_offline(chromium, folder + lesson.path.with_suffix(".html").as_posix(), folder)
    try:
        check_rendered(tab, record, nbformat.read(ROOT / lesson.path, as_version=4))
    finally:
        tab.close()
