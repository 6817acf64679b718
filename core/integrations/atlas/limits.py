"""How fast and how many at once Gatepass calls Atlas, per project.

Atlas limits the database-user endpoints of a project with a token bucket (by default a burst
of 10,000 calls, refilled at 5,000 a minute). ``TokenBucket`` keeps the same bucket on our
side, so that Gatepass stays under the limit instead of learning it from 429s; what Atlas
reports (``Ratelimit-Remaining``, ``Retry-After``) corrects it, since other clients may spend
the same project's budget. ``InFlight`` sizes how many calls are in flight by Little's law:
the rate the budget allows times the latency Atlas answers with (a moving average), with
headroom, within bounds — a slow Atlas gets more calls in flight, a fast one fewer.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

LATENCY_WEIGHT = 0.2  # of each new sample in the moving average
# Our bucket refills a little slower than Atlas's, so that the few milliseconds between our
# count and Atlas's never make a call arrive just before Atlas has its token back.
REFILL_MARGIN = 0.95


@dataclass
class TokenBucket:
    """``burst`` tokens, ``per_minute`` back each minute; ``take`` waits for one."""

    burst: int
    per_minute: float
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    tokens: float = field(init=False)
    _updated: float = field(init=False)
    _paused_until: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self._updated = self.monotonic()

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.per_second)
        self._updated = now

    def wait_needed(self) -> float:
        """Seconds until a token may be spent (0: now)."""
        now = self.monotonic()
        self._refill(now)
        if now < self._paused_until:
            return self._paused_until - now
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.per_second

    async def take(self) -> None:
        while (wait := self.wait_needed()) > 0:
            await self.sleep(wait)
        self.tokens -= 1.0

    def observe(self, remaining: int | None, retry_after: float | None) -> None:
        """What Atlas said: tokens left (never more than it says), or wait this long."""
        now = self.monotonic()
        self._refill(now)
        if remaining is not None and remaining < self.tokens:
            self.tokens = float(remaining)
        if retry_after is not None:
            self.tokens = 0.0
            self._paused_until = max(self._paused_until, now + retry_after)


@dataclass
class InFlight:
    """At most ``limit`` calls at once, ``limit`` following the latency Atlas answers with."""

    rate: float  # calls a second the budget allows
    minimum: int = 4
    maximum: int = 256
    headroom: float = 2.0
    latency: float = 0.2  # seconds, a moving average (a first guess: Atlas's usual)
    running: int = 0
    most: int = 0  # the most calls there were in flight at once
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)

    @property
    def limit(self) -> int:
        wanted = math.ceil(self.rate * self.latency * self.headroom)
        return max(self.minimum, min(self.maximum, wanted))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self.running < self.limit)
            self.running += 1
            self.most = max(self.most, self.running)
        began = time.monotonic()
        try:
            yield
        finally:
            sample = time.monotonic() - began
            self.latency += LATENCY_WEIGHT * (sample - self.latency)
            async with self._changed:
                self.running -= 1
                self._changed.notify_all()


@dataclass
class ProjectLimits:
    """One project's bucket and in-flight bound."""

    bucket: TokenBucket
    in_flight: InFlight

    @classmethod
    def of(cls, *, burst: int, per_minute: float, maximum: int = 256) -> ProjectLimits:
        bucket = TokenBucket(burst, per_minute * REFILL_MARGIN)
        return cls(bucket, InFlight(rate=bucket.per_second, maximum=maximum))

    @asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        """Hold a slot and spend a token for one call."""
        async with self.in_flight.slot():
            await self.bucket.take()
            yield
