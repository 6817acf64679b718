"""Readiness: does every configured part work right now?

Each part hands the composition root its checks (``Check``: a name and a coroutine returning
``None`` when the part works, else why not, in words with no secret in them). ``Readiness``
runs them all together, each bounded by ``timeout``, and keeps the results for ``ttl``
seconds: probes arriving meanwhile (any number of them) get the cached answer, and only one
run is ever in flight, so a probe storm costs Slack one ``auth.test`` per ``ttl``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.domain.ports import Integration
from core.integrations import last_call
from core.storage.store import Store

Probe = Callable[[], Awaitable[str | None]]
DEFAULT_TTL = 10.0
DEFAULT_TIMEOUT = 2.5  # below the readiness probe's own timeout (3 s in deploy/kubernetes)


@dataclass(frozen=True)
class Check:
    name: str
    probe: Probe


@dataclass(frozen=True)
class Result:
    name: str
    problem: str | None
    checked_at: datetime

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ok else "not ready",
            **({} if self.ok else {"problem": self.problem}),
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
        }


@dataclass
class Readiness:
    checks: Sequence[Check]
    ttl: float = DEFAULT_TTL
    timeout: float = DEFAULT_TIMEOUT
    clock: Callable[[], float] = time.monotonic
    _results: dict[str, Result] = field(default_factory=dict)
    _at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def latest(self) -> Mapping[str, Result]:
        """The last results, however old (none before the first run)."""
        return dict(self._results)

    async def results(self) -> Mapping[str, Result]:
        """Fresh enough results: the cached ones, or one new run shared by every caller."""
        if self._fresh():
            return self.latest
        async with self._lock:
            if not self._fresh():
                await self._run()
        return self.latest

    def _fresh(self) -> bool:
        return self._at is not None and self.clock() - self._at < self.ttl

    async def _run(self) -> None:
        found = await asyncio.gather(*(self._one(check) for check in self.checks))
        self._results = {result.name: result for result in found}
        self._at = self.clock()

    async def _one(self, check: Check) -> Result:
        try:
            problem = await asyncio.wait_for(check.probe(), self.timeout)
        except TimeoutError:
            problem = f"no answer within {self.timeout:g}s"
        except Exception as error:  # a check that breaks reports, it does not crash the probe
            problem = f"the check failed: {type(error).__name__}"
        return Result(check.name, first_line(problem), datetime.now(UTC))

    async def report(self) -> tuple[bool, dict[str, Any]]:
        results = await self.results()
        ready = all(result.ok for result in results.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {name: result.as_json() for name, result in sorted(results.items())},
        }
        return ready, body


# --------------------------------------------------------------------------- checks


def first_line(problem: str | None) -> str | None:
    """A problem as one line (some libraries add a second with a link)."""
    if problem is None:
        return None
    return (problem.strip().splitlines() or [""])[0].strip() or "unknown problem"


def describe_database_error(error: BaseException, url: str) -> str:
    """One line on why the database failed, without its password."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    password = make_url(url).password if "://" in url else None
    if password:
        text = text.replace(str(password), "***")
    return text[:300]


def database_check(store: Store, url: str) -> Check:
    async def database() -> str | None:
        try:
            async with store.engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (sa.exc.SQLAlchemyError, OSError) as error:
            return f"unreachable: {describe_database_error(error, url)}"
        return None

    return Check("database", database)


def integration_check(integration: Integration) -> Check:
    async def atlas() -> str | None:
        call = last_call(integration)
        return None if call is None or call.ok else call.describe()

    return Check(f"integration {integration.name}", atlas)
