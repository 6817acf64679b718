"""What the Atlas fake records of each call, and the trouble a test can ask it to make."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str  # raw (percent-encoded) path, without the query
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    status: int = 0  # the status the fake answered
    at: float = field(default_factory=time.time)  # when it arrived


@dataclass
class Storm:
    """The next ``count`` authenticated API calls answer ``status`` (429 / 500 / 503)."""

    count: int
    status: int = 429
    retry_after: float | None = 1.0


@dataclass
class Slowdown:
    """Matching API calls are answered ``seconds`` late (the next ``count``; None: all)."""

    seconds: float
    method: str | None = None
    contains: str = ""
    count: int | None = None

    def applies(self, method: str, path: str) -> bool:
        matches = self.method in (None, method) and self.contains in path
        return matches and (self.count is None or self.count > 0)
