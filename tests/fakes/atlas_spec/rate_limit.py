"""Atlas's token buckets, as the fake enforces them when asked (``FakeAtlas(rate_limit=...)``).

Atlas limits the database-user endpoints per project with a token bucket: a burst of 10,000
calls, refilled at 5,000 a minute. Every answer of a limited endpoint carries
``Ratelimit-Limit`` and ``Ratelimit-Remaining`` (the recorded responses show both); a call with
no token left gets 429 ``RATE_LIMITED_TOKEN_BUCKET`` with ``Retry-After`` (whole seconds until
a token is back) and Atlas's error body. Off by default, so that ordinary tests are unaffected.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.atlas_spec.wire import ApiError

DATABASE_USERS = re.compile(r"^/api/atlas/v2/groups/(?P<group>[^/]+)/databaseUsers(/|$)")


@dataclass
class Bucket:
    """One project's bucket: ``burst`` tokens, ``per_minute`` back every minute."""

    burst: int
    per_minute: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> float | None:
        """Spend a token: None when one was there, else the seconds until one is back."""
        if self.tokens < 0:
            self.tokens, self.updated = float(self.burst), now
        rate = self.per_minute / 60.0
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / rate

    @property
    def remaining(self) -> int:
        return max(0, int(self.tokens))


@dataclass
class RateLimit:
    """The buckets of the database-user endpoints, one per project; ``throttled`` counts 429s."""

    burst: int = 10_000
    per_minute: float = 5_000
    monotonic: Callable[[], float] = time.monotonic
    buckets: dict[str, Bucket] = field(default_factory=dict)
    throttled: int = 0
    admitted: int = 0

    def check(self, path: str) -> dict[str, str]:
        """The headers of a limited call's answer; ApiError 429 when the bucket is empty."""
        match = DATABASE_USERS.match(path)
        if match is None:
            return {}
        group = match["group"]
        bucket = self.buckets.setdefault(group, Bucket(self.burst, self.per_minute))
        wait = bucket.take(self.monotonic())
        headers = {"Ratelimit-Limit": str(self.burst), "Ratelimit-Remaining": str(bucket.remaining)}
        if wait is None:
            self.admitted += 1
            return headers
        self.throttled += 1
        raise ApiError(
            429,
            "RATE_LIMITED_TOKEN_BUCKET",
            f"Resource /api/atlas/v2/groups/{group}/databaseUsers is limited to "
            f"{self.burst} requests every 1 minutes.",
            parameters=[f"/api/atlas/v2/groups/{group}/databaseUsers", self.burst, 1],
            headers={**headers, "Retry-After": str(max(1, math.ceil(wait)))},
        )
