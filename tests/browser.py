"""Page helpers for the browser tests: drive a notebook in JupyterLab (started by `servers.jupyter_server`
with `--LabApp.expose_app_in_browser=True`) through `window.jupyterapp` and the page, the way a person
does, and time how long a widget's readout takes to change after an input.

Everything waits on a condition in the page; nothing sleeps a fixed time.
"""

from decimal import Decimal

import ipywidgets as widgets
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from losslab.widgets.toolkit import plain_text

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# No autosave writing the run's outputs over the notebook copy; everything else as a user gets it
# (JupyterLab's default "contentVisibility" windowing keeps every cell in the page).
LAB_SETTINGS = {"@jupyterlab/docmanager-extension:plugin": {"autosave": False}}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_ERROR = "Error displaying widget"
KERNEL_START_MS = 120_000  # a kernel importing torch takes 2-3 s alone; two cores may be busy
RUN_ALL_MS = 180_000
UPDATE_MS = 15_000
POLL_MS = 100  # for the long waits; a readout's change is awaited with a MutationObserver, no polling

# `window.`: JupyterLab defines `jupyterapp` only once it has started, after the page has loaded.
NOTEBOOK = "window.jupyterapp?.shell?.currentWidget"
# The open notebook's kernel is connected and idle.
KERNEL_IDLE = f"""() => {{
    const kernel = {NOTEBOOK}?.sessionContext?.session?.kernel;
    return Boolean({NOTEBOOK}?.context?.isReady && kernel?.connectionStatus === 'connected' && kernel.status === 'idle');
}}"""
# "Run All" has ended when the command's promise has settled, the kernel is idle and every code cell has
# run (an execution count, not queued or running), or a cell not tagged raises-exception shows an error
# (then JupyterLab stops running cells). The promise alone does not say it: JupyterLab settles it as
# soon as any cell fails, even one tagged raises-exception, while the cells after it still run.
START_RUN_ALL = """() => {
    window.losslabRunAll = {done: false};
    jupyterapp.commands.execute('notebook:run-all-cells').finally(() => { window.losslabRunAll.done = true; });
}"""
RUN_ALL_DONE = f"""() => {{
    const cells = {NOTEBOOK}.content.model.sharedModel.cells.filter(cell => cell.cell_type === 'code');
    const ran = cell => cell.execution_count !== null && cell.execution_state !== 'running';
    const failed = cell => (cell.outputs || []).some(out => out.output_type === 'error')
        && !((cell.metadata && cell.metadata.tags) || []).includes('raises-exception');
    return window.losslabRunAll.done && ({KERNEL_IDLE})() && (cells.every(ran) || cells.some(failed));
}}"""
# [{index, tags, executionCount, running, errors: ["ename: evalue"]}] for every code cell of the open notebook.
CODE_CELLS = f"""() => {NOTEBOOK}.content.model.sharedModel.cells.map((cell, index) => ({{
    index, type: cell.cell_type, tags: (cell.metadata && cell.metadata.tags) || [],
    executionCount: cell.execution_count === undefined ? null : cell.execution_count,
    running: cell.execution_state === 'running',
    errors: (cell.outputs || []).filter(out => out.output_type === 'error').map(out => `${{out.ename}}: ${{out.evalue}}`),
}})).filter(cell => cell.type === 'code')"""

# Records performance.now() at the input (`trigger`, seen in the capture phase on document: the Enter
# keydown, a button's click, a select's change) and at the first mutation of `readout` after it.
START_TIMER = """(readout, trigger) => {
    const timer = {start: null, changed: null};
    const onInput = event => {
        if (timer.start === null && (trigger !== 'keydown' || event.key === 'Enter')) timer.start = performance.now();
    };
    const observer = new MutationObserver(() => {
        if (timer.start !== null && timer.changed === null) timer.changed = performance.now();
    });
    timer.stop = () => { observer.disconnect(); document.removeEventListener(trigger, onInput, true); };
    document.addEventListener(trigger, onInput, true);
    observer.observe(readout, {subtree: true, characterData: true, childList: true});
    window.losslabTimer = timer;
}"""
STOP_TIMER = """() => {
    const timer = window.losslabTimer;
    timer.stop();
    return timer.start === null || timer.changed === null ? null : timer.changed - timer.start;
}"""
# Resolves true as soon as `readout` shows `expected` (whitespace runs as one space), false after timeoutMs.
SHOWS_TEXT = """(readout, [expected, timeoutMs]) => new Promise(resolve => {
    const shows = () => readout.textContent.replace(/\\s+/g, ' ').trim() === expected;
    if (shows()) return resolve(true);
    const observer = new MutationObserver(() => { if (shows()) finish(true); });
    const timeout = setTimeout(() => finish(false), timeoutMs);
    const finish = result => { observer.disconnect(); clearTimeout(timeout); resolve(result); };
    observer.observe(readout, {subtree: true, characterData: true, childList: true});
})"""


def wait_for(page, condition, timeout_ms, what):
    """Wait until the JS `condition` holds. A "Select Kernel" dialog is answered with the default kernel;
    any other dialog fails the test with its text (a kernel that died must not hang the test)."""
    dialog = page.locator(".jp-Dialog")
    either = f"() => Boolean(document.querySelector('.jp-Dialog')) || ({condition})()"
    while True:
        try:
            page.wait_for_function(either, timeout=timeout_ms, polling=POLL_MS)
        except PlaywrightTimeout as error:
            raise AssertionError(f"timed out after {timeout_ms} ms waiting for {what}") from error
        if not dialog.count():
            return
        text = dialog.inner_text()
        if "Select Kernel" not in text:
            pytest.fail(f"a dialog appeared while waiting for {what}: {' '.join(text.split())}")
        dialog.locator(".jp-mod-accept").click()
        dialog.wait_for(state="detached")


def open_notebook(page, server_url, name):
    """Open `name` in JupyterLab (a reset workspace: no other document reopens) and wait for its kernel."""
    page.goto(f"{server_url}lab/tree/{name}?reset")
    wait_for(page, KERNEL_IDLE, KERNEL_START_MS, f"the kernel of {name}")


def trust_notebook(page):
    """A notebook fresh from disk is untrusted, and JupyterLab shows an untrusted notebook's widget outputs
    only as their safe fallbacks (an image or text), never as widgets. Trust it as a person does (command
    "Trust Notebook", then "Trust")."""
    page.evaluate("() => { jupyterapp.commands.execute('notebook:trust'); }")
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_role("button", name="Trust").click()
    dialog.wait_for(state="detached")


def run_all(page):
    page.evaluate(START_RUN_ALL)
    wait_for(page, RUN_ALL_DONE, RUN_ALL_MS, "run all cells")


def code_cells(page):
    return page.evaluate(CODE_CELLS)


def shows_widget_error(page):
    return page.evaluate(f"() => document.body.textContent.includes({WIDGET_ERROR!r})")


def cell_output(page, cell_index):
    """The output (of cell `cell_index`) that holds a rendered widget."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(cell_index)
    return cell.locator(".jp-OutputArea-output").filter(has=page.locator(".jupyter-widgets"))


def fallback_picture(page, cell_index):
    """The image an untrusted notebook shows in place of the widget of cell `cell_index` (the output's
    image/png): JupyterLab renders widgets only in trusted notebooks."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(cell_index)
    assert not cell.locator(".jupyter-widgets").count(), "an untrusted notebook rendered a widget"
    return cell.locator(".jp-OutputArea-output img").first


def screenshot(element, path):
    """A screenshot of `element`. Cells above it may still be laid out as it scrolls into view (JupyterLab
    renders off-screen cells lazily) and move it: scroll until it stays put, then shoot."""
    for _ in range(10):
        element.scroll_into_view_if_needed()
        before = element.bounding_box()
        element.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        if element.bounding_box() == before:
            break
    element.screenshot(path=path)


def image_loaded(image):
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def css_class(control):
    return next(name for name in control._dom_classes if name.startswith("losslab-"))


# Resolves after the kernel is idle and the page has painted twice since: the previous change is done
# (chart included), so the next input is timed from a quiet page, as a person's next input would be.
SETTLED = f"""() => new Promise(resolve => {{
    const idle = () => {NOTEBOOK}.sessionContext.session.kernel.status === 'idle';
    const twoFrames = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)));
    const wait = () => (idle() ? twoFrames() : setTimeout(wait, 5));
    wait();
}})"""


def timed_change(page, readout, expected_text, trigger, act):
    """Do `act()` (which ends with the input `trigger`, and may return what ends the gesture afterwards),
    wait for `readout` (an element handle) to show `expected_text`, and return the milliseconds from the
    input to the readout's first change (None if it did not change).

    `readout` is a handle, not a locator: a locator is looked up again in the page at every use, and that
    lookup would compete on the page's main thread with the very update being timed."""
    page.evaluate(SETTLED)
    readout.evaluate(START_TIMER, trigger)
    end_gesture = act()
    shown = readout.evaluate(SHOWS_TEXT, [expected_text, UPDATE_MS])
    if end_gesture:
        end_gesture()
    latency = page.evaluate(STOP_TIMER)
    if not shown:
        text = " ".join(readout.text_content().split())
        raise AssertionError(f"after {UPDATE_MS} ms the readout shows {text!r}, losslab computes {expected_text!r}")
    return latency


FRACTIONS = (0.8, 0.15, 0.6, 0.35, 0.95)  # of a slider's range, visited in turn


def slider_texts(control, count, first=0):
    """`count` values to type into a slider's readout: spread over its range (starting at FRACTIONS[first],
    so that sliders moved with different `first` end at different values), on its step, each different
    from the one before (the first from the current value)."""
    steps = round((control.max - control.min) / control.step)
    decimals = max(0, -Decimal(str(control.step)).normalize().as_tuple().exponent)
    texts, current = [], control.value
    for n in range(count):
        k = round(FRACTIONS[(first + n) % len(FRACTIONS)] * steps)
        text = f"{control.min + k * control.step:.{decimals}f}"
        if float(text) == current:
            text = f"{control.min + (k - 1 if k else 1) * control.step:.{decimals}f}"
        texts.append(text)
        current = float(text)
    return texts


def planned_changes(control, element, count, first=0):
    """`count` changes of `control`: (the new value, the input event that sets it in the page, and a
    function that makes that input on the control's `element` as a person does)."""
    if isinstance(control, (widgets.FloatSlider, widgets.IntSlider)):
        number = int if isinstance(control, widgets.IntSlider) else float
        return [(number(text), "keydown", _typing(element, text)) for text in slider_texts(control, count, first)]
    if isinstance(control, (widgets.ToggleButtons, widgets.Dropdown)):
        labels, values = control._options_labels, control._options_values
        indices = [(control.index + 1 + k) % len(labels) for k in range(count)]
        if isinstance(control, widgets.ToggleButtons):
            return [(values[i], "click", _clicking(element, labels[i])) for i in indices]
        return [(values[i], "change", _selecting(element, labels[i])) for i in indices]
    pytest.fail(f"the browser test cannot drive a {type(control).__name__} ({css_class(control)}) yet")


# Inputs end with raw keyboard and mouse events: after the timed event, nothing of Playwright's (a
# locator looked up again, an actionability check) runs on the page's main thread beside the update.
def _typing(element, text):
    """Type `text` into the slider's readout and press Enter, which sets the value (on keydown).

    Enter is released only after the readout has changed, as a person's finger, which holds a key down
    for some 50-100 ms, releases it. Playwright's `press` releases it at once, and Chromium handles a
    keyup as one more input: it puts the page's other tasks, the websocket's messages among them, off
    until it has drawn one more frame, a whole frame (up to 16.7 ms at 60 Hz plus the drawing) that no
    person's key release adds (measured in a Chromium trace)."""

    def act():
        element.locator(".widget-readout").click()  # contenteditable: now focused, as a person's click leaves it
        keyboard = element.page.keyboard
        keyboard.press("Control+a")
        keyboard.type(text)
        keyboard.down("Enter")
        return lambda: keyboard.up("Enter")

    return act


def _clicking(element, label):
    def act():
        button = element.get_by_role("button", name=label, exact=True)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        element.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    return act


def _selecting(element, label):
    return lambda: element.locator("select").select_option(label=label)


def change_control(output, readout, control, explorer_readout, count, first=0):
    """Change `control` `count` times in the page (a slider from FRACTIONS[first] on), and the same way on
    the explorer's control in this process; after each change the page's readout must show what the
    explorer's readout shows.
    Returns the latencies in ms of the changes that changed the readout's text."""
    element = output.locator(f".{css_class(control)}")
    element.scroll_into_view_if_needed()
    handle = readout.element_handle()
    latencies = []
    for value, trigger, act in planned_changes(control, element, count, first):
        control.value = value
        expected = plain_text(explorer_readout.value)
        before = " ".join(handle.text_content().split())
        latency = timed_change(output.page, handle, expected, trigger, act)
        if expected != before:
            assert latency is not None, f"the readout changed but the timer saw no {trigger} before it"
            latencies.append(latency)
    return latencies
