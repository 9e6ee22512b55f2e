"""`make slides`: one reveal.js deck per notebook, the lecture's core cells, working offline.

The decks are built here, into a temporary folder, exactly as `make slides` builds them (from the npm
packages `make test` installs into build/npm). Without a browser: each deck holds one slide per core cell
that starts a slide or subslide, and names nothing outside its own folder. In Chromium (marked "browser"),
each deck is served from its folder on a free localhost port with every other request refused and
recorded, and stepped through slide by slide: reveal.js counts the slides the core cells make, every
formula is typeset by the deck's own MathJax, no output shows an error other than the failing cases
the lecture raises on purpose, and the explorer renders from the notebook's saved widget state (no
"Error displaying widget"): its readout shows the saved numbers, its chart its picture, and a slider
typed into moves. (Without a kernel, the readout and chart stay as saved: the live explorer runs in
JupyterLab.)
"""

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from losslab.widgets.toolkit import plain_text
from servers import static_server

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NODE_MODULES = Path(os.environ.get("LOSSLAB_NODE_MODULES", ROOT / "build" / "npm" / "node_modules"))
STARTS_A_SLIDE = {"slide", "subslide"}
READOUT_CLASS = "losslab-readout"


@pytest.fixture(scope="module")
def deck_dir(tmp_path_factory):
    if not NODE_MODULES.is_dir():
        pytest.fail(
            f"{NODE_MODULES} is missing: `make test` (or `make slides`) installs slides/package-lock.json there"
        )
    from build_decks import build

    outdir = tmp_path_factory.mktemp("slides")
    build(NODE_MODULES, outdir, NOTEBOOKS)
    return outdir


def core_slide_count(nb):
    """The slides the deck must have: one per core cell that starts a slide or a subslide."""
    return sum(
        cell.metadata.get("lecture") == "core"
        and cell.metadata.get("slideshow", {}).get("slide_type") in STARTS_A_SLIDE
        for cell in nb.cells
    )


class Sections(HTMLParser):
    """Counts reveal.js slides: <section> elements with no <section> inside."""

    def __init__(self):
        super().__init__()
        self.stack, self.leaves = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            if self.stack:
                self.stack[-1] = True  # the enclosing section has a child section
            self.stack.append(False)

    def handle_endtag(self, tag):
        if tag == "section":
            self.leaves += not self.stack.pop()


def leaf_sections(html):
    parser = Sections()
    parser.feed(html)
    return parser.leaves


def deck_path(deck_dir, notebook):
    return deck_dir / f"{notebook.stem}.slides.html"


each_notebook = pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)


@each_notebook
def test_a_deck_per_notebook_with_a_slide_per_core_slide_cell(deck_dir, notebook):
    nb = nbformat.read(notebook, as_version=4)
    expected = core_slide_count(nb)
    assert expected > 0
    assert leaf_sections(deck_path(deck_dir, notebook).read_text(encoding="utf-8")) == expected


@each_notebook
def test_a_deck_shows_the_setup_cell_without_the_colab_bootstrap(deck_dir, notebook):
    html = deck_path(deck_dir, notebook).read_text(encoding="utf-8")
    assert "google.colab" not in html and "git clone" not in html
    assert "setup" in html  # the lesson's own part of the cell stays


@each_notebook
def test_a_deck_names_nothing_outside_its_folder(deck_dir, notebook):
    html = deck_path(deck_dir, notebook).read_text(encoding="utf-8")
    for attribute, url in re.findall(r'<(?:script|link|img|iframe)[^>]*?\s(src|href)="([^"]*)"', html):
        if url.startswith(("data:", "#")):
            continue
        assert "//" not in url, f"{notebook.name}: {attribute}={url!r} points outside the deck's folder"
        assert (deck_dir / url.split("?")[0]).exists(), f"{notebook.name}: {url!r} is not in the deck's folder"


def test_the_slide_counter_counts_nested_sections():
    assert leaf_sections("<section><section>a</section><section>b</section></section><section>c</section>") == 3


# --- In Chromium --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deck_server(deck_dir):
    """The deck folder over HTTP on a free localhost port (a browser loads MathJax's fonts from there)."""
    with static_server(deck_dir) as url:
        yield url


LOADED_MS = 60_000
# The deck loads reveal.js with require.js (as nbconvert's template does) and keeps no global of it: ask
# require.js for the same module, already initialised by the deck.
REVEAL_GLOBAL = """() => new Promise(resolve => require(['reveal.js/dist/reveal.js'], reveal => {
    window.Reveal = reveal; resolve(true); }))"""
# reveal.js is ready, MathJax has typeset the page, and the widget manager has rendered every saved view.
READY = """() => window.Reveal && Reveal.isReady() && window.losslabMathDone === true
    && document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length
       === [...document.querySelectorAll('.widget-subarea')].filter(area => area.children.length).length"""
QUEUE_MATH_DONE = "() => MathJax.Hub.Queue(() => { window.losslabMathDone = true; })"
# The text of rendered markdown with code removed: a "$" left in it is a formula MathJax did not typeset.
UNTYPESET_MATH = """() => [...document.querySelectorAll('.jp-RenderedMarkdown')].map(md => {
    const copy = md.cloneNode(true);
    copy.querySelectorAll('code, pre, script, .MathJax_CHTML, .MathJax_Preview, .MJX_Assistive_MathML')
        .forEach(e => e.remove());
    return copy.textContent;
}).filter(text => /\\$[^$]+\\$/.test(text))"""
# Show slide `index` (in reading order) with all its fragments; return it.
GO_TO_SLIDE = """index => {
    const slide = Reveal.getSlides()[index];
    const {h, v} = Reveal.getIndices(slide);
    Reveal.slide(h, v, slide.querySelectorAll('.fragment').length);
    return Reveal.getCurrentSlide();
}"""
ERROR_OUTPUTS = """() => document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length"""


def expected_error_outputs(nb):
    """Core cells that raise on purpose show their error; nothing else may."""
    return sum(
        cell.metadata.get("lecture") == "core"
        and any(output.output_type == "error" for output in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    )


def saved_readout(nb):
    """The explorer's readout as the notebook saved it (the widget output's text fallback, after "|")."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {}) and "|" in text:
                return text
    return None


@pytest.mark.browser
@each_notebook
def test_stepping_through_the_deck_offline(chromium, deck_server, notebook, tmp_path):
    nb = nbformat.read(notebook, as_version=4)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    refused = []

    def only_the_deck(route):
        url = route.request.url
        if url.startswith((deck_server, "data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", only_the_deck)
    page_errors = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto(f"{deck_server}{notebook.stem}.slides.html")
        page.wait_for_function(
            "() => window.MathJax && MathJax.Hub && MathJax.Hub.Queue && window.require", timeout=LOADED_MS
        )
        page.evaluate(QUEUE_MATH_DONE)
        page.evaluate(REVEAL_GLOBAL)
        page.wait_for_function(READY, timeout=LOADED_MS, polling=100)

        assert not refused, f"the deck asked for something outside its folder: {refused}"
        assert not page_errors, f"errors in the page: {page_errors}"
        assert page.evaluate("() => Reveal.getTotalSlides()") == core_slide_count(nb)
        assert page.evaluate(UNTYPESET_MATH) == [], "formulas left untypeset"
        assert page.evaluate("() => document.querySelectorAll('.MathJax_CHTML').length") > 0
        assert page.evaluate(ERROR_OUTPUTS) == expected_error_outputs(nb)

        visited, explorer_seen = 0, False
        for index in range(page.evaluate("() => Reveal.getSlides().length")):
            visited += 1
            slide = page.evaluate_handle(GO_TO_SLIDE, index)
            text = slide.evaluate("s => s.textContent")
            assert "Error displaying widget" not in text, f"slide {visited}: a widget failed to render"
            if slide.evaluate(f"s => Boolean(s.querySelector('.{READOUT_CLASS}'))"):
                explorer_seen = True
                check_explorer_slide(page, slide, nb, tmp_path / f"{notebook.stem}-explorer.png")
        assert visited == core_slide_count(nb), f"stepped through {visited} slides"
        assert explorer_seen, "the explorer is on no slide of the lecture"
        assert not refused and not page_errors
    finally:
        page.close()


def check_explorer_slide(page, slide, nb, screenshot_path):
    """The explorer, rendered from saved state: the saved readout, the chart's picture, a slider that moves."""
    readout = slide.evaluate_handle(f"s => s.querySelector('.{READOUT_CLASS}')")
    shown = " ".join(readout.evaluate("r => r.textContent").split())
    saved = saved_readout(nb)
    assert saved and plain_text(shown) in saved, f"the readout shows {shown!r}; the notebook saved {saved!r}"
    assert slide.evaluate(
        "s => [...s.querySelectorAll('.jupyter-widgets img')].some(i => i.complete && i.naturalWidth > 0)"
    )
    slider = slide.evaluate_handle("s => s.querySelector('.widget-slider .widget-readout')")
    assert slider, "the explorer has no slider"
    before = slider.evaluate("r => r.textContent.trim()")
    slider.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("1" if not before.startswith("1") else "2")  # inside every explorer slider's range
    page.keyboard.press("Enter")
    page.wait_for_function("([r, before]) => r.textContent.trim() !== before", arg=[slider, before], timeout=5000)
    readout.evaluate("r => r.closest('.widget-subarea').scrollIntoView()")
    readout.evaluate_handle("r => r.closest('.widget-subarea')").as_element().screenshot(path=str(screenshot_path))
