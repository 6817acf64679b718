"""Waking the workers of other processes: PostgreSQL's ``LISTEN``/``NOTIFY``.

A process's doorbell (``core.jobs.contract.Bell``) wakes only the worker of that process. When
``gatepass serve`` takes approvals and a separate ``gatepass worker`` runs the jobs, the worker
would see a queued job only at its next poll. On PostgreSQL the doorbell therefore also sends
``NOTIFY gatepass_jobs`` after the commit that queued jobs (:class:`Announcer`, on a connection
of its own, never waiting and never failing the caller), and every worker process ``LISTEN``s
on a dedicated connection and rings its own bell when notified (:class:`Listener`).

A notification is a hint, never the only way a job is found: the worker keeps polling, so a
notification lost (the listening connection dropped, the database restarting) costs at most
one poll interval. The listener reconnects with a growing backoff, rings its bell once after
each (re)connection for whatever it may have missed, and never holds up start-up when the
database cannot be reached. SQLite has no such mechanism: there, a job queued by another
process waits for the worker's next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.engine import make_url

from core.domain.ports import Doorbell

log = logging.getLogger("gatepass.jobs")
CHANNEL = "gatepass_jobs"
# How the two connections show in pg_stat_activity.
LISTENER_NAME, ANNOUNCER_NAME = "gatepass-listen", "gatepass-notify"
CONNECT_TIMEOUT_S = 5
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 30.0


def libpq_url(database_url: str) -> str | None:
    """The libpq form of a PostgreSQL URL; None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _connect(conninfo: str, name: str) -> psycopg.AsyncConnection[tuple[object, ...]]:
    return await psycopg.AsyncConnection.connect(
        conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name=name
    )


@dataclass
class Announcer:
    """Sends ``NOTIFY`` for a ring: rings while one is being sent make one more, not many.
    ``sender`` is the payload, so that a process's own listener can ignore its own rings."""

    conninfo: str
    sender: str
    _connection: psycopg.AsyncConnection[tuple[object, ...]] | None = field(
        default=None, init=False
    )
    _sending: asyncio.Task[None] | None = field(default=None, init=False)
    _again: bool = field(default=False, init=False)

    def ring(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous tool): the workers' poll finds the jobs
        sending = self._sending
        if sending is not None and not sending.done() and sending.get_loop() is loop:
            self._again = True
            return
        if sending is not None and sending.get_loop() is not loop:
            self._connection = None  # made on a loop that is gone
        self._sending = asyncio.create_task(self._send(), name="wakeup-notify")

    async def _send(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = await _connect(self.conninfo, ANNOUNCER_NAME)
                await self._connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.sender))
            except (psycopg.Error, OSError) as error:
                log.debug("cannot notify the other workers (they poll): %s", error)
                await self._drop()
                return

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await connection.close()

    async def aclose(self) -> None:
        if self._sending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sending, timeout=CONNECT_TIMEOUT_S)
        await self._drop()


@dataclass
class Listener:
    """``LISTEN gatepass_jobs`` on a dedicated connection; ``wake`` is called for every
    notification from another process, and once after every (re)connection."""

    conninfo: str
    wake: Callable[[], None]
    sender: str = ""  # notifications with this payload are this process's own
    connections: int = field(default=0, init=False)  # made so far

    async def run(self) -> None:
        """Until cancelled: listen, and reconnect with backoff when the connection drops."""
        delay = BACKOFF_FIRST_S
        while True:
            before = self.connections
            try:
                await self._listen()
                problem = "the listening connection closed"
            except (psycopg.Error, OSError) as error:
                problem = str(error) or type(error).__name__
            if self.connections > before:  # it was listening: the first retry comes soon
                delay = BACKOFF_FIRST_S
            log.warning(
                "job wake-ups: %s; listening again in %.1f s (polling meanwhile)", problem, delay
            )
            await asyncio.sleep(delay)
            delay = min(BACKOFF_MAX_S, delay * 2)

    async def _listen(self) -> None:
        async with await _connect(self.conninfo, LISTENER_NAME) as connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            self.connections += 1
            log.info("job wake-ups: listening on %s", CHANNEL)
            self.wake()  # whatever was queued while not listening
            async for notification in connection.notifies():
                if notification.payload != self.sender:
                    self.wake()


@dataclass
class Wakeups:
    """This process's part in the cross-process wake-ups (PostgreSQL only)."""

    conninfo: str
    sender: str = field(default_factory=lambda: secrets.token_hex(8))
    announcer: Announcer = field(init=False)
    _listening: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.announcer = Announcer(self.conninfo, self.sender)

    @classmethod
    def for_database(cls, database_url: str) -> Wakeups | None:
        """None on SQLite: there, jobs queued by another process wait for the poll."""
        conninfo = libpq_url(database_url)
        return cls(conninfo) if conninfo is not None else None

    def doorbell(self, local: Doorbell) -> Doorbell:
        """Rings ``local`` (this process's worker) and the other processes' workers."""
        return Doorbells((local, self.announcer))

    def listen(self, wake: Callable[[], None]) -> Listener:
        """Start listening in the background (never waits for the database); ``wake`` rings
        this process's bell."""
        listener = Listener(self.conninfo, wake, sender=self.sender)
        if self._listening is None:
            self._listening = asyncio.create_task(listener.run(), name="wakeup-listen")
        return listener

    async def aclose(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        await self.announcer.aclose()


@dataclass(frozen=True)
class Doorbells:
    """Several doorbells rung as one (``core.domain.ports.Doorbell``)."""

    bells: tuple[Doorbell, ...]

    def ring(self) -> None:
        for bell in self.bells:
            bell.ring()
