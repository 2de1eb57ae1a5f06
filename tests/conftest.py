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


# -- fixtures of the explorer tests (tests/test_widgets_<module>.py) ---------------------

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def explorer(request):
    """The explorer of the module that the test module names as ``WIDGET``."""
    return request.module.WIDGET.make_explorer()


@pytest.fixture(scope="module")
def default_result(explorer):
    """``compute`` at the explorer's default settings (shared by a module's tests)."""
    return explorer.compute(**explorer.params())
