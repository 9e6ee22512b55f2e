"""Widget latency in the kernel: time from a control's value change to the updated readout and chart.

Run with `make bench`. Prints figures; asserts nothing (timings vary with the machine).
"""

import statistics
import time

from losslab.widgets.softmax import SoftmaxExplorer

CHANGES = 200


def time_changes(set_value):
    durations = []
    for i in range(CHANGES):
        start = time.perf_counter()
        set_value(i)
        durations.append(time.perf_counter() - start)
    durations.sort()
    return statistics.median(durations) * 1e3, durations[int(0.95 * len(durations))] * 1e3


def main():
    explorer = SoftmaxExplorer()
    controls = {
        "SoftmaxExplorer: logit slider": lambda i: setattr(explorer.logit_sliders[i % 4], "value", -9.5 + i % 20),
        "SoftmaxExplorer: temperature": lambda i: setattr(explorer.temperature, "value", 0.1 + (i % 40) * 0.1),
    }
    print(f"{'widget control':36} {'median ms':>10} {'p95 ms':>8}   ({CHANGES} changes each)")
    for name, set_value in controls.items():
        median, p95 = time_changes(set_value)
        print(f"{name:36} {median:10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
