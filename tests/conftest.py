"""Hypothesis profiles for the property tests.

"default" is what `make test` and CI run: 2,000 examples per property, derandomized so every run
tests the same examples (a failure in CI reproduces locally), no example database, no deadline
(a first call into torch can be slow). HYPOTHESIS_PROFILE=dev runs 200 examples, for quick iteration
only; HYPOTHESIS_PROFILE=matrix 100, for the second torch release; HYPOTHESIS_PROFILE=hunt runs fresh
random examples each time.

Also the browser tests' skip (no Chromium), fixtures and terminal summary, and the option that skips
the simulated Binder environment (see the end of this file).
"""

import os
import statistics
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=2000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", settings.get_profile("default"), max_examples=200)
# The version matrix (`make test-torch`, tools/torch_matrix.py) runs the property tests again under a second
# torch release at 100 examples each: what changed between releases shows on the first examples already.
settings.register_profile("matrix", settings.get_profile("default"), max_examples=100)
# HYPOTHESIS_PROFILE=hunt draws fresh random examples on every run, to look for mismatches CI never tried.
settings.register_profile("hunt", settings.get_profile("default"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# Browser tests (tests/test_browser.py, marked "browser"): Chromium is Debian's, at /usr/bin/chromium
# (LOSSLAB_CHROMIUM overrides the path, e.g. to check the skip). Without it they are skipped, and the
# summary says so loudly. With it, the summary shows the readout latencies they measured.
CHROMIUM = Path(os.environ.get("LOSSLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_MISSING = f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
BROWSER_REPORT = pytest.StashKey[dict]()
TARGET_MEDIAN_MS = 20


# tests/test_binder_env.py rebuilds Binder's environment (about 1.5 min, then nbval in it: about 3 min).
# CI always runs it; a developer can leave it out locally with `make test SKIP_BINDER=1`.
SKIP_BINDER_OPTION = "--skip-binder-env"


def pytest_addoption(parser):
    parser.addoption(
        SKIP_BINDER_OPTION,
        action="store_true",
        help="skip tests/test_binder_env.py (the simulated Binder environment); CI never does",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in Chromium; skipped when Chromium is missing")
    config.addinivalue_line("markers", f"binder_env: builds Binder's environment; {SKIP_BINDER_OPTION} skips it")
    config.stash[BROWSER_REPORT] = {"latencies": [], "screenshots": None}


def pytest_collection_modifyitems(config, items):
    skip_binder = config.getoption(SKIP_BINDER_OPTION)
    has_chromium = os.access(CHROMIUM, os.X_OK)
    for item in items:
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason=CHROMIUM_MISSING))
        if "binder_env" in item.keywords and skip_binder:
            item.add_marker(pytest.mark.skip(reason=f"{SKIP_BINDER_OPTION} given"))


@pytest.fixture(scope="session")
def chromium_path():
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def chromium(chromium_path):
    """A headless Chromium for one test module (Playwright drives it; it never downloads a browser)."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser_report(request):
    """{"latencies": [{"config", "widget", "control", "ms"}, ...], "screenshots": folder}, for the summary."""
    return request.config.stash[BROWSER_REPORT]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser" in r.keywords]
    if skipped:
        terminalreporter.section("BROWSER TESTS SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.line(
            f"{len(skipped)} browser tests were SKIPPED because {CHROMIUM_MISSING}.", red=True, bold=True
        )
    skipped_binder = [r for r in terminalreporter.stats.get("skipped", []) if "binder_env" in r.keywords]
    if skipped_binder:
        terminalreporter.section("SIMULATED BINDER ENVIRONMENT SKIPPED", sep="!", yellow=True, bold=True)
        terminalreporter.line(
            f"{len(skipped_binder)} Binder environment tests were skipped ({SKIP_BINDER_OPTION}); CI runs them.",
            yellow=True,
            bold=True,
        )
    report = config.stash.get(BROWSER_REPORT, None)
    if report and report["screenshots"]:
        terminalreporter.section("widget readout latency in Chromium (ms from input to readout change)")
        for line in latency_table(report["latencies"]) if report["latencies"] else ["no latencies measured"]:
            terminalreporter.line(line)
        terminalreporter.line(f"screenshots: {report['screenshots']}")


def latency_table(latencies):
    """The summary's lines: median per widget, per control and overall, for each server configuration."""
    configs = ("course config", "stock")  # test_browser.CONFIGS
    rows = {}  # widget -> control -> config -> [ms]
    for entry in latencies:
        widget = rows.setdefault(entry["widget"], {})
        widget.setdefault(entry["control"], {c: [] for c in configs})[entry["config"]].append(entry["ms"])

    def cells(by_config):
        medians = [f"{statistics.median(ms):8.1f}" if ms else f"{'-':>8}" for ms in by_config.values()]
        counts = "/".join(str(len(ms)) for ms in by_config.values())
        return f"{medians[0]}  {medians[1]}  {counts:>9}"

    lines = [
        "median ms; config: the course's jupyter-config (TCP_NODELAY, status-bar kernel indicator), stock: a stock "
        "JupyterLab; changes: config/stock",
        f"{'widget / control':<40}  {'config':>8}  {'stock':>8}  {'changes':>9}",
    ]
    for widget, controls in rows.items():
        lines.append(f"{widget:<40}  " + cells({c: [m for ms in controls.values() for m in ms[c]] for c in configs}))
        lines += [f"  {control:<38}  " + cells(ms) for control, ms in controls.items()]
    overall = {c: [e["ms"] for e in latencies if e["config"] == c] for c in configs}
    lines.append(f"{'all widgets':<40}  " + cells(overall))
    if overall["course config"]:
        median = statistics.median(overall["course config"])
        verdict = "met" if median <= TARGET_MEDIAN_MS else "NOT MET"
        lines.append(f"target: overall median <= {TARGET_MEDIAN_MS} ms with the course config: {verdict}")
    return lines
