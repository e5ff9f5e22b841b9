"""Hypothesis profiles for the property and fuzz tests.

* ``ci`` (default): few examples, a deadline, fast enough for every run.
* ``fuzz``: many examples and no deadline, for a long local run::

      HYPOTHESIS_PROFILE=fuzz python -m pytest tests/test_fuzz.py tests/test_properties.py
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=200, deadline=2000, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
