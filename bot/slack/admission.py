"""Whether a signed Slack delivery is the first one on every replica, known after the ack.

The signature and this replica's memory of recent signatures are checked before bolt sees a
request (no database, no waiting). The cross-replica record of seen deliveries is a database
write, and a write can wait on a lock: it is started at once but never holds back the ack.
When it answers within :data:`QUICK` the route still refuses a replay with 401; otherwise the
request is acked and every listener waits for the answer in ``after_ack()``, before it changes
anything, so a replay sent to another replica is acked and then changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextvars import ContextVar

QUICK = 0.05
"""Seconds the route waits for the shared record before it lets bolt ack anyway."""


class ReplayRefused(Exception):
    """The delivery was already seen on another replica: its listener stops, changing nothing."""


class Admission:
    """The shared record's answer for one delivery, started when the request arrives."""

    def __init__(self, shared: Awaitable[bool] | None = None) -> None:
        self._answer: asyncio.Future[bool] | None = (
            None if shared is None else asyncio.ensure_future(shared)
        )
        if self._answer is not None:
            self._answer.add_done_callback(_retrieve)

    async def replay_known_within(self, seconds: float) -> bool:
        """True when the shared record says, within ``seconds``, that this is a replay."""
        if self._answer is None:
            return False
        done, _ = await asyncio.wait({self._answer}, timeout=seconds)
        return bool(done) and self._answer.exception() is None and not self._answer.result()

    async def confirmed(self) -> bool:
        """Wait for the shared record: True for the first delivery (raises when it failed)."""
        return True if self._answer is None else await asyncio.shield(self._answer)


def _retrieve(answer: asyncio.Future[bool]) -> None:
    """Mark a failure as seen: the listener that awaits it reports it, not the event loop."""
    if not answer.cancelled():
        answer.exception()


CURRENT: ContextVar[Admission | None] = ContextVar("gatepass_slack_admission", default=None)
"""Set by the route around bolt's dispatch; bolt's listener tasks inherit it."""


async def wait_for_admission() -> None:
    """Raise :class:`ReplayRefused` when this delivery was already seen on another replica."""
    admission = CURRENT.get()
    if admission is not None and not await admission.confirmed():
        raise ReplayRefused()
