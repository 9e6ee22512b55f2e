"""`make slides`: one reveal.js deck per notebook in build/slides/, that works offline.

Each deck is nbconvert's slides export of the committed notebook (its saved outputs and widget state; no
kernel runs): the core cells of the lecture path, as their `slideshow` metadata places them (optional
cells are `skip`), with the explorer rendered from its saved state. Everything a deck loads sits beside
it: reveal.js, MathJax 2 (the version nbconvert's reveal template drives), require.js, jQuery and the
Jupyter widgets HTML manager, copied from the npm packages pinned in slides/package-lock.json (which
`make slides` installs into build/npm). Open build/slides/NN_topic.slides.html in a browser, or serve
the folder (`python -m http.server -d build/slides`). The Colab bootstrap at the top of each setup cell
(tools/sync_colab.py) is left out of the decks: it is for learners on Colab, not for the lecture's screen.

Usage: python slides/build_decks.py NODE_MODULES OUTDIR notebooks/NN_topic.ipynb ...
"""

import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # as a script: sync_colab.py
import sync_colab  # noqa: E402

TEMPLATES = Path(__file__).resolve().parent / "templates"
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"
# Page-relative path -> (npm package path, the parts of it to copy; None: the path itself).
ASSETS = {
    "reveal.js": ("reveal.js", ["dist", "plugin", "LICENSE"]),
    "mathjax": ("mathjax", ["MathJax.js", "config", "extensions", "jax", "fonts", "localization", "LICENSE"]),
    "require.js": ("requirejs/require.js", None),
    "jquery.min.js": ("jquery/dist/jquery.min.js", None),
    "html-manager": ("@jupyter-widgets/html-manager/dist", None),
}
# What any nbconvert HTML page with formulas and saved widgets loads (the course website's too).
PAGE_ASSETS = ("mathjax", "require.js", "html-manager")


def offline_urls(exporter_config, prefix=""):
    """Point an nbconvert HTML exporter's MathJax, require.js and widget manager at the copies that
    `copy_assets` puts in `prefix` (a page-relative folder, "" or "../"), instead of its CDNs."""
    exporter_config.mathjax_url = f"{prefix}mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    exporter_config.require_js_url = f"{prefix}require.js"
    exporter_config.widget_renderer_url = f"{prefix}html-manager/embed-amd.js"


def exporter():
    config = Config()
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.SlidesExporter.extra_template_paths = [str(TEMPLATES)]  # losslab_offline.html.j2
    config.SlidesExporter.template_name = "losslab_reveal"
    config.SlidesExporter.reveal_url_prefix = "reveal.js"
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_transition = "none"
    config.SlidesExporter.reveal_number = "c/t"  # "7/31": where the lecture is
    config.SlidesExporter.reveal_scroll = True  # a slide taller than the screen scrolls instead of being cut
    offline_urls(config.SlidesExporter)
    config.SlidesExporter.jquery_url = "jquery.min.js"
    return SlidesExporter(config=config)


def copy_assets(node_modules, outdir, names=tuple(ASSETS)):
    """Copy the ASSETS `names` from the npm packages in `node_modules` into `outdir`, replacing old copies."""
    for name in names:
        (source, parts), target = ASSETS[name], outdir / name
        source = Path(node_modules) / source
        if not source.exists():
            raise SystemExit(f"{source} is missing: `make slides` installs slides/package.json into build/npm")
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        if parts is None:
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
            continue
        target.mkdir(parents=True)
        for part in parts:
            (shutil.copytree if (source / part).is_dir() else shutil.copy)(source / part, target / part)


def build(node_modules, outdir, notebooks):
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    copy_assets(node_modules, outdir)
    slides = exporter()
    decks = []
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        setup = sync_colab.setup_cell(nb)
        setup.source = sync_colab.lesson_code(setup.source)
        body, _ = slides.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        deck = outdir / f"{path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
        print(f"wrote {deck}")
    return decks


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    build(sys.argv[1], sys.argv[2], sys.argv[3:])
