"""The composition root: one aiohttp app (``/healthz``, ``/metrics``, the chat platforms' routes)
plus the job worker, built from settings."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from core.config.settings import Settings
from core.context import Context
from core.domain.ports import Clock, Integration, Notifier
from core.jobs import handlers
from core.jobs.queue import Backoff, Worker
from core.runtime import build_context
from core.storage import migrations

log = logging.getLogger("gatepass")

Platform = Callable[["Gatepass"], Awaitable[None]]
GATEPASS: web.AppKey[Gatepass] = web.AppKey("gatepass")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Gatepass:
    """Everything ``serve`` runs, wired once."""

    settings: Settings
    ctx: Context
    web: web.Application
    worker: Worker | None = None
    # False: the worker exists (tests drive it with run_due()) but its loop is not started.
    run_worker_loop: bool = True
    platforms: dict[str, str] = field(default_factory=dict)  # name -> "ready" or why not
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def add_notifier(self, notifier: Notifier) -> None:
        self.ctx.notifiers = [*self.ctx.notifiers, notifier]

    async def start_background(self) -> None:
        if self.worker is not None and self.run_worker_loop:
            await handlers.schedule_periodic(self.ctx)
            self._tasks.append(asyncio.create_task(self.worker.run(self._stop), name="worker"))
        for starter in self.background:
            self._tasks.append(
                asyncio.create_task(starter(), name=getattr(starter, "__name__", "task"))
            )

    async def close(self) -> None:
        """Stop what runs in the background, then let go of connections."""
        await self.stop_background()
        for integration in self.ctx.integrations.values():
            close = getattr(integration, "aclose", None)
            if close is not None:
                await close()
        await self.ctx.store.close()

    async def stop_background(self) -> None:
        self._stop.set()
        for task in self._tasks:
            if task.get_name() != "worker":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def _platform_status(settings: Settings, name: str) -> str:
    section = getattr(settings.config, name)
    if section is None:
        return f"not configured (add a {name}: section to {settings.config_path})"
    missing = [u for u in settings.unavailable if u.component == name]
    if missing:
        return "left out: " + "; ".join(f"{u.source} {u.problem}" for u in missing)
    return "ready"


def health(app: Gatepass) -> dict[str, Any]:
    settings = app.settings
    integrations = {
        i.name: (
            "ready"
            if i.name in app.ctx.integrations
            else "left out: "
            + "; ".join(
                f"{u.source} {u.problem}"
                for u in settings.unavailable
                if u.component == f"integration {i.name}"
            )
        )
        for i in settings.config.integrations
    }
    key_problem = [u for u in settings.unavailable if u.component == "encryption_key"]
    return {
        "status": "ok",
        "platforms": {
            name: app.platforms.get(name, _platform_status(settings, name))
            for name in ("slack", "teams")
        },
        "integrations": integrations,
        "encryption_key": "ready"
        if not key_problem
        else f"left out: {key_problem[0].source} {key_problem[0].problem}",
        "worker": "running" if app.worker is not None else "off (--no-worker)",
    }


async def _healthz(request: web.Request) -> web.Response:
    app = request.app[GATEPASS]
    body = health(app)
    try:
        await app.ctx.store.ping()
        body["database"] = "ok"
    except Exception as error:  # report, do not crash the health endpoint
        body["database"] = f"unreachable: {type(error).__name__}"
        body["status"] = "degraded"
        return web.json_response(body, status=503)
    return web.json_response(body)


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    integrations: dict[str, Integration] | None = None,
    run_worker: bool = True,
    start_worker_loop: bool = True,
    migrate: bool = True,
    platforms: Sequence[Platform] | None = None,
    worker_poll: float | None = None,
    backoff: Backoff | None = None,
) -> Gatepass:
    """Wire the app. ``platforms`` defaults to every chat edge the settings configure."""
    teams = settings.config.teams
    if teams is not None and teams.dev_mode and not is_loopback(settings.config.server.host):
        raise SystemExit(
            f"teams.dev_mode turns off Bot Framework authentication; it is allowed only when "
            f"server.host is a loopback address, not {settings.config.server.host!r}"
        )
    if migrate:
        await migrations.upgrade_async(settings.database_url)
    ctx = build_context(settings, clock=clock, integrations=integrations)
    application = web.Application(client_max_size=1024 * 1024)
    gatepass = Gatepass(
        settings=settings, ctx=ctx, web=application, run_worker_loop=start_worker_loop
    )
    application[GATEPASS] = gatepass
    application.router.add_get("/healthz", _healthz)
    if run_worker:
        jobs_config = settings.config.jobs
        gatepass.worker = Worker(
            ctx,
            handlers.KINDS,
            lease=jobs_config.lease,
            poll_interval=worker_poll
            if worker_poll is not None
            else jobs_config.poll_interval.total_seconds(),
            backoff=backoff or Backoff(),
        )
        ctx.wake_worker = gatepass.worker.wake
    for install in platforms if platforms is not None else default_platforms():
        await install(gatepass)
    for name in ("slack", "teams"):
        status = gatepass.platforms.get(name, _platform_status(settings, name))
        if status != "ready":
            log.warning("%s: %s", name, status)
    for item in settings.unavailable:
        if item.component.startswith("integration") or item.component == "encryption_key":
            log.warning("%s left out: %s %s", item.component, item.source, item.problem)
    application.on_startup.append(lambda _app: gatepass.start_background())
    application.on_cleanup.append(lambda _app: gatepass.close())
    return gatepass


def default_platforms() -> list[Platform]:
    installers: list[Platform] = []
    for module_name in ("bot.slack.install", "bot.teams.install"):
        try:
            module = __import__(module_name, fromlist=["install"])
        except ModuleNotFoundError:
            continue
        installers.append(module.install)
    return installers
