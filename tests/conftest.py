"""Hypothesis profiles for the property tests.

"default" is what `make test` and CI run: 2,000 examples per property, derandomized so every run
tests the same examples (a failure in CI reproduces locally), no example database, no deadline
(a first call into torch can be slow). HYPOTHESIS_PROFILE=dev runs 200 examples, for quick iteration
only; HYPOTHESIS_PROFILE=hunt runs fresh random examples each time.
"""

import os

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
# HYPOTHESIS_PROFILE=hunt draws fresh random examples on every run, to look for mismatches CI never tried.
settings.register_profile("hunt", settings.get_profile("default"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
