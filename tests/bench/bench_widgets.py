"""Widget latency in the kernel: time from a control's value change to the updated readout and chart.

Every explorer in losslab.widgets (found automatically), every control, CHANGES changes each,
cycling through values across the control's range. Run with `make bench`. Prints figures;
asserts nothing (timings vary with the machine).
"""

import statistics
import time

import ipywidgets as widgets

from losslab.widgets import all_explorers

CHANGES = 100


def values_to_cycle(control):
    """Distinct values spread over the control's range (every option of a selector)."""
    if isinstance(control, widgets.Checkbox):
        return [True, False]
    if isinstance(control, widgets.widget_selection._Selection):
        return list(control._options_values)
    if isinstance(control, widgets.IntSlider):
        return list(range(control.min, control.max + 1, max(1, (control.max - control.min) // 20)))
    steps = 20
    return [control.min + (control.max - control.min) * k / steps for k in range(steps + 1)]


def time_changes(control):
    """Median and 95th percentile of CHANGES value changes, each to a value different from the last."""
    values = values_to_cycle(control)
    durations = []
    for i in range(CHANGES):
        value = values[i % len(values)]
        if value == control.value:  # setting the same value triggers no update: take the next one
            value = values[(i + 1) % len(values)]
        start = time.perf_counter()
        control.value = value
        durations.append(time.perf_counter() - start)
    durations.sort()
    return statistics.median(durations) * 1e3, durations[int(0.95 * len(durations))] * 1e3


def main():
    print(f"{'explorer: control':60} {'median ms':>10} {'p95 ms':>8}   ({CHANGES} changes each)")
    for cls in all_explorers():
        explorer = cls()
        for control in explorer.controls():
            median, p95 = time_changes(control)
            print(f"{cls.__name__ + ': ' + control.description:60} {median:10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
