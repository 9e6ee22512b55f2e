"""Widget latency in the kernel: time from a control's value change to the updated readout and chart.

Every explorer in losslab.widgets (found automatically), every control: the median and 95th percentile
over many value changes spread across the control's range, for the explorer as it runs (its chart
redrawn in place) and for the same explorer with `recreate_figure=True` (a new figure per change, saved
whole: the baseline). Setting `control.value` runs the update synchronously, so the time of the
assignment is the time to the new readout and chart. Run with `make bench`: it prints one row per
control and a verdict per target, and exits 1 if a target is missed. It also reports, per explorer, the
median in projector mode beside the default mode's, measured in the same run.
"""

import gc
import statistics
import sys
import time
from typing import NamedTuple

import ipywidgets as widgets

from losslab.widgets import all_explorers, toolkit

CHANGES = 100  # per control, in place
BASELINE_CHANGES = 50  # per control, re-creating the figure: several times slower; only its median is compared
MEDIAN_TARGET_MS = 16.0  # one frame at 60 Hz
P95_TARGET_MS = 33.0  # two frames
SPEEDUP_TARGET = 2.0


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


def time_changes(control, changes):
    """Median and 95th percentile in ms of `changes` value changes, each to a value different from the last."""
    values = values_to_cycle(control)
    durations = []
    gc.collect()  # garbage left by an earlier run is not this run's cost
    for i in range(changes):
        value = values[i % len(values)]
        if value == control.value:  # setting the same value triggers no update: take the next one
            value = values[(i + 1) % len(values)]
        start = time.perf_counter()
        control.value = value
        durations.append((time.perf_counter() - start) * 1e3)
    return statistics.median(durations), statistics.quantiles(durations, n=20)[-1]


class Row(NamedTuple):
    """One control's figures, in ms."""

    name: str
    median: float
    p95: float
    baseline_median: float
    baseline_p95: float
    same_readout: bool  # as the baseline's, after the same changes

    @property
    def speedup(self):
        return self.baseline_median / self.median


def measure():
    """One row per control of every explorer."""
    rows = []
    for cls in all_explorers():
        ours, baseline = cls(), cls(recreate_figure=True)
        for control, baseline_control in zip(ours.controls(), baseline.controls(), strict=True):
            median, p95 = time_changes(control, CHANGES)
            baseline_median, baseline_p95 = time_changes(baseline_control, BASELINE_CHANGES)
            baseline_control.value = control.value  # both explorers in the same state again
            same = baseline.readout.value == ours.readout.value
            rows.append(Row(f"{cls.__name__}: {control.description}", median, p95, baseline_median, baseline_p95, same))
    return rows


def measure_projector():
    """{explorer: (median ms in projector mode, median ms in default mode)} over every control's changes,
    both measured here, one after the other: the cost of the larger chart as a ratio to the default."""
    medians = {}
    for cls in all_explorers():
        default = cls()
        toolkit.set_projector_mode(True)
        try:
            projected = cls()
        finally:
            toolkit.set_projector_mode(False)
        pairs = [
            (time_changes(big, CHANGES // 2)[0], time_changes(small, CHANGES // 2)[0])
            for big, small in zip(projected.controls(), default.controls(), strict=True)
        ]
        medians[cls.__name__] = (statistics.median(p for p, _ in pairs), statistics.median(d for _, d in pairs))
    return medians


def misses(rows):
    """{target: the rows that miss it, with their figure}."""
    return {
        f"median <= {MEDIAN_TARGET_MS:g} ms": [
            f"{r.name} ({r.median:.1f} ms)" for r in rows if r.median > MEDIAN_TARGET_MS
        ],
        f"p95 <= {P95_TARGET_MS:g} ms": [f"{r.name} ({r.p95:.1f} ms)" for r in rows if r.p95 > P95_TARGET_MS],
        f"speedup >= {SPEEDUP_TARGET:g}x over re-creating the figure": [
            f"{r.name} ({r.speedup:.1f}x)" for r in rows if r.speedup < SPEEDUP_TARGET
        ],
        "same readout as the baseline": [r.name for r in rows if not r.same_readout],
    }


def main():
    start = time.perf_counter()
    rows = measure()
    print(f"{'explorer: control':50} {'median ms':>9} {'p95 ms':>7} {'baseline median':>15} {'p95':>7} {'speedup':>8}")
    for r in rows:
        print(
            f"{r.name:50} {r.median:9.1f} {r.p95:7.1f} {r.baseline_median:15.1f} {r.baseline_p95:7.1f} {r.speedup:7.1f}x"
        )
    print(f"(in place: {CHANGES} changes per control; baseline, a new figure per change: {BASELINE_CHANGES})\n")
    missed = misses(rows)
    for target, missing in missed.items():
        if missing:
            print(f"{target}: MISSED by {len(missing)} of {len(rows)}: " + "; ".join(missing))
        else:
            print(f"{target}: met by all {len(rows)} controls")
    print("\nprojector mode (setup(presentation=True): charts >= 900 px wide, no text under 20 px), reported only:")
    for name, (projector, default) in measure_projector().items():
        print(f"  {name:40} median {projector:5.1f} ms, {projector / default:.1f}x the default mode's {default:.1f} ms")
    print(f"({time.perf_counter() - start:.0f} s)")
    sys.exit(1 if any(missed.values()) else 0)


if __name__ == "__main__":
    main()
