"""Shared pytest configuration.

Hypothesis runs derandomized (a fixed example sequence) so that the suite
passes or fails the same way on every run, and without per-example deadlines
(the machine is shared; speed is measured by benchmarks/, not by tests).
"""

import os

import matplotlib

matplotlib.use("Agg")

from hypothesis import settings  # noqa: E402

settings.register_profile("book", derandomize=True, deadline=None, max_examples=40,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "book"))
