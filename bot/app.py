"""The composition root: one aiohttp app (``/healthz``, ``/readyz``, ``/metrics``, the chat
platforms' routes) plus the job worker, assembled once from settings.

The order is fixed: the worker's doorbell (on PostgreSQL also ringing the other processes'
workers, ``core.storage.wakeups``), then the domain context (holding the doorbell), then
each platform's parts (``install(settings, ctx)``), then the worker with the notice handlers
holding the platforms' notifiers, then the web app with every route. Nothing is added to the
context or the app afterwards; ``close()`` takes it all down again, in ``serve`` and ``worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from bot.health import (
    Check,
    Readiness,
    database_check,
    describe_database_error,
    integration_check,
)
from bot.monitoring import GATEPASS, health, health_routes, monitoring_app, request_context
from bot.platform import READY, Installer, PlatformParts, configured_status
from core.config.network import dev_mode_problem
from core.config.settings import Settings
from core.context import Context
from core.domain.ports import Clock, Integration, Notifier
from core.jobs import handlers
from core.jobs.queue import Backoff, Bell, Worker
from core.runtime import build_context
from core.storage import migrations
from core.storage.connections import connection_budget
from core.storage.store import Store
from core.storage.wakeups import Wakeups

log = logging.getLogger("gatepass")

__all__ = ["GATEPASS", "Gatepass", "build", "default_platforms", "health"]
PLATFORM_MODULES = {"slack": "bot.slack.install", "teams": "bot.teams.install"}
PLATFORM_MODULES["scim"] = "bot.scim.install"  # the identity provider's edge (directory.scim)


@dataclass(frozen=True)
class Gatepass:
    """Everything ``serve`` and ``worker`` run, assembled once."""

    settings: Settings
    ctx: Context
    web: web.Application
    parts: Mapping[str, PlatformParts]
    notifiers: tuple[Notifier, ...]
    readiness: Readiness
    worker: Worker | None = None
    # False: the worker exists (tests drive it with run_due()) but its loop is not started.
    run_worker_loop: bool = True
    # PostgreSQL: this process's NOTIFY after commits and LISTEN for other processes' jobs.
    wakeups: Wakeups | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def monitoring(self) -> web.Application | None:
        """The separate ``server.metrics`` listener's app (None: not configured)."""
        if self.settings.config.server.metrics is None:
            return None
        return monitoring_app(self)

    @property
    def platforms(self) -> dict[str, str]:
        """Each installed platform: "ready" or why it is left out (now)."""
        return {name: part.current_status() for name, part in self.parts.items()}

    async def start_background(self) -> None:
        """``serve``: the platforms prepared, then the worker loop (unless turned off) and the
        platforms' background tasks started."""
        for part in self.parts.values():
            if part.prepare is not None:
                await part.prepare()
        if self.worker is not None and self.run_worker_loop:
            await handlers.schedule_periodic(self.ctx)
            self._listen_for_wakeups()
            self._tasks.append(asyncio.create_task(self.worker.run(self._stop), name="worker"))
        for part in self.parts.values():
            for starter in part.background:
                name = getattr(starter, "__name__", "task")
                self._tasks.append(asyncio.create_task(starter(), name=name))

    async def work(self, stop: asyncio.Event) -> None:
        """``worker``: run due jobs until ``stop`` is set, then finish the jobs in hand."""
        assert self.worker is not None, "built without a worker"
        await handlers.schedule_periodic(self.ctx)
        self._listen_for_wakeups()
        await self.worker.run(stop)

    def _listen_for_wakeups(self) -> None:
        """Other processes' jobs wake this worker (PostgreSQL; in the background, so that an
        unreachable database never holds up the start)."""
        if self.wakeups is not None and self.worker is not None:
            self.wakeups.listen(self.worker.wake)

    async def close(self) -> None:
        """Stop the background work (the worker finishes its jobs in hand), let each platform
        finish what it has in flight, then let go of connections."""
        await self._stop_background()
        for part in self.parts.values():
            if part.close is not None:
                try:
                    await part.close()
                except Exception:  # one platform's failure must not keep the others open
                    log.exception("%s did not close cleanly", part.name)
        for integration in self.ctx.integrations.values():
            close = getattr(integration, "aclose", None)
            if close is not None:
                await close()
        if self.wakeups is not None:
            await self.wakeups.aclose()
        await self.ctx.store.close()

    async def _stop_background(self) -> None:
        self._stop.set()
        for task in self._tasks:
            if task.get_name() != "worker":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def _refuse_unsafe_dev_mode(settings: Settings) -> None:
    teams = settings.config.teams
    problem = dev_mode_problem(
        dev_mode=teams is not None and teams.dev_mode, host=settings.config.server.host
    )
    if problem is not None:
        raise SystemExit(problem)


def _web_app(parts: Sequence[PlatformParts], *, with_metrics: bool) -> web.Application:
    application = web.Application(client_max_size=1024 * 1024, middlewares=[request_context])
    application.router.add_routes(health_routes(with_metrics=with_metrics))
    for part in parts:
        application.router.add_routes(part.routes)
    return application


def _log_what_is_left_out(settings: Settings, parts: Mapping[str, PlatformParts]) -> None:
    for name in PLATFORM_MODULES:
        part = parts.get(name)
        status = part.status if part is not None else configured_status(settings, name)
        if status != READY:
            log.warning("%s: %s", name, status)
    for item in settings.unavailable:
        if item.component.startswith("integration") or item.component == "encryption_key":
            log.warning("%s left out: %s %s", item.component, item.source, item.problem)


async def _log_connection_budget(store: Store, settings: Settings) -> None:
    """On PostgreSQL: how many processes like this one the server admits (a warning if none)."""
    try:
        budget = await connection_budget(store, settings.config.database_pool)
    except (sa.exc.SQLAlchemyError, OSError) as error:
        reason = describe_database_error(error, settings.database_url)
        log.warning("database: cannot read its connection limits: %s", reason)
        return
    if budget is not None:
        problem = budget.problem()
        (log.warning if problem else log.info)("database: %s", problem or budget.describe())


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    integrations: dict[str, Integration] | None = None,
    run_worker: bool = True,
    start_worker_loop: bool = True,
    migrate: bool = True,
    platforms: Sequence[Installer] | None = None,
    worker_poll: float | None = None,
    backoff: Backoff | None = None,
    readiness_ttl: float | None = None,
) -> Gatepass:
    """Assemble the app. ``platforms`` defaults to every chat edge (``default_platforms``)."""
    _refuse_unsafe_dev_mode(settings)
    installers = platforms if platforms is not None else default_platforms()
    if migrate:
        await migrations.upgrade_async(settings.database_url)
    bell = Bell()
    wakeups = Wakeups.for_database(settings.database_url)
    doorbell = wakeups.doorbell(bell) if wakeups is not None else bell
    ctx = build_context(settings, clock=clock, integrations=integrations, doorbell=doorbell)
    await _log_connection_budget(ctx.store, settings)
    parts = {part.name: part for part in (install(settings, ctx) for install in installers)}
    notifiers = tuple(p.notifier for p in parts.values() if p.notifier is not None)
    worker = None
    if run_worker:
        jobs = settings.config.jobs
        worker = Worker(
            ctx,
            handlers.job_kinds(notifiers),
            lease=jobs.lease,
            poll_interval=worker_poll
            if worker_poll is not None
            else jobs.poll_interval.total_seconds(),
            backoff=backoff or Backoff(),
            bell=bell,
        )
    application = _web_app(
        list(parts.values()), with_metrics=settings.config.server.metrics is None
    )
    checks: list[Check] = [database_check(ctx.store, settings.database_url)]
    checks += [check for part in parts.values() for check in part.checks]
    checks += [integration_check(i) for i in ctx.integrations.values()]
    gatepass = Gatepass(
        settings=settings,
        ctx=ctx,
        web=application,
        parts=parts,
        notifiers=notifiers,
        readiness=Readiness(checks, **({} if readiness_ttl is None else {"ttl": readiness_ttl})),
        worker=worker,
        run_worker_loop=start_worker_loop,
        wakeups=wakeups,
    )
    application[GATEPASS] = gatepass
    application.on_startup.append(lambda _app: gatepass.start_background())
    application.on_cleanup.append(lambda _app: gatepass.close())
    _log_what_is_left_out(settings, parts)
    return gatepass


def default_platforms() -> list[Installer]:
    """Every chat edge's installer. A platform module that cannot be imported (a dependency
    missing or broken) is an error at start, naming the module and the cause: Gatepass never
    runs silently without a platform its install should have."""
    installers: list[Installer] = []
    for name, module_name in PLATFORM_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise SystemExit(
                f"gatepass cannot start: the {name} edge ({module_name}) could not be imported: "
                f"{type(error).__name__}: {error}"
            ) from error
        installers.append(module.install)
    return installers
