"""The proxy's write throttle: InfluxDB 1.x's ``max-concurrent-write-limit``, for the proxy's ``/write``.

At most ``concurrent`` writes run at once; up to ``enqueued`` more wait for a
turn, each for at most ``timeout`` seconds.  A write beyond that is answered
as 1.x answered it: ``503`` with the plain-text body ``request throttled,
queue full`` (no room to wait) or ``request throttled, exceeds timeout``
(waited too long), plus ``Retry-After: 1``, which 1.x did not send and
influx_compat's own client honours.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator, Optional

__all__ = ["Throttler", "QUEUE_FULL", "TIMED_OUT"]

QUEUE_FULL = "request throttled, queue full"
TIMED_OUT = "request throttled, exceeds timeout"


class Throttler:
    """Admission of concurrent writes.

    :param concurrent: writes running at once; 0 for no limit (then nothing waits here)
    :param enqueued: writes waiting for a turn beyond those; 0 for no limit on
        the waiting ones (1.x's meaning: each waits up to ``timeout``)
    :param timeout: seconds a write waits for its turn; 0 or None to wait as long as it takes
    """

    def __init__(self, concurrent: int, enqueued: int = 0, timeout: Optional[float] = 30.0) -> None:
        self.concurrent = concurrent
        self.enqueued = enqueued
        self.timeout = timeout or None
        self._running = threading.BoundedSemaphore(concurrent) if concurrent > 0 else None
        self._admitted = (
            threading.BoundedSemaphore(concurrent + enqueued) if concurrent > 0 and enqueued > 0 else None
        )

    @contextmanager
    def turn(self) -> Iterator[Optional[str]]:
        """Wait for a turn: yields None when the write may run, else 1.x's refusal text."""
        if self._running is None:
            yield None
            return
        if self._admitted is not None and not self._admitted.acquire(blocking=False):
            yield QUEUE_FULL
            return
        try:
            if not self._running.acquire(timeout=self.timeout):
                yield TIMED_OUT
                return
            try:
                yield None
            finally:
                self._running.release()
        finally:
            if self._admitted is not None:
                self._admitted.release()
