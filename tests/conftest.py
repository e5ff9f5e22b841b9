"""Hypothesis profiles for the property and fuzz tests.

* ``ci`` (default): few examples, a deadline, fast enough for every run.
* ``fuzz``: many examples and no deadline, for a long local run::

      HYPOTHESIS_PROFILE=fuzz python -m pytest tests/test_fuzz.py tests/test_properties.py

Also :func:`time_limit`, which bounds a block of hostile input in wall time.

The suite keeps the engine's cache (rammeaftale.load.cache) in a folder of its own, so it
neither reads nor fills the user's ``~/.cache/rammeaftale``; child processes
(CLI tests) inherit it.
"""

import atexit
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=200, deadline=2000, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_CACHE_HOME = tempfile.mkdtemp(prefix="rammeaftale-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME
atexit.register(shutil.rmtree, _CACHE_HOME, ignore_errors=True)


class Hung(BaseException):
    """Raised by :func:`time_limit`; a BaseException so no ``except Exception`` can swallow it."""


@contextmanager
def time_limit(seconds: float):
    """Fail the block with :class:`Hung` if it runs longer than ``seconds`` (POSIX, main thread)."""
    def expire(signum, frame):
        raise Hung(f"brugte mere end {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
