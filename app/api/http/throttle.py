"""Throttling of failed authentication per client address.

Each address may fail ``budget`` times within ``window`` seconds; past that, every request from
it that needs a key is refused with 429 (and ``Retry-After``) for ``window`` seconds, before its
key is even compared, so keys cannot be guessed at speed. Requests with a valid key cost one
look-up in an empty dict while nobody is blocked. Memory is bounded: at most ``max_addresses``
addresses are tracked, the oldest forgotten first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class FailedAuthThrottle:
    """Failure counts per address in fixed windows, and the addresses blocked now."""

    def __init__(
        self,
        budget: int,
        window: float,
        *,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget, self.window = budget, window
        self.max_addresses = max_addresses
        self.clock = clock
        self._failures: dict[str, tuple[float, int]] = {}  # address -> (window start, count)
        self.blocked: dict[str, float] = {}
        """Address -> when its block ends; empty while nobody is blocked."""

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it is not blocked."""
        until = self.blocked.get(address)
        if until is None:
            return None
        left = until - self.clock()
        if left <= 0:
            del self.blocked[address]
            return None
        return max(1, math.ceil(left))

    def failed(self, address: str) -> int | None:
        """Count a failure of ``address``; seconds to wait when that used up its budget."""
        now = self.clock()
        start, count = self._failures.pop(address, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        count += 1
        if count > self.budget:
            self.blocked[address] = now + self.window
            self._forget_oldest(self.blocked)
            return max(1, math.ceil(self.window))
        self._failures[address] = (start, count)  # re-inserted: the dict stays oldest first
        self._forget_oldest(self._failures)
        return None

    def _forget_oldest(self, table: dict[str, float] | dict[str, tuple[float, int]]) -> None:
        while len(table) > self.max_addresses:
            del table[next(iter(table))]
