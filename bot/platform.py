"""What a chat platform's installer hands the composition root: its parts, built once.

Each platform module (``bot.slack.install``, ``bot.teams.install``) has
``install(settings, ctx) -> PlatformParts``. It builds its edge from the settings and the
domain context and returns the pieces ``bot.app`` assembles: the HTTP routes it serves, the
notifier the notice jobs send through, what ``serve`` prepares before answering and runs in
the background, a hook that closes it (letting what it has in flight finish first), and
whether it is ready or why it is left out. Nothing is added to the app or to the context
afterwards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.health import Check
from core.config.settings import Settings
from core.context import Context
from core.domain.ports import Notifier

READY = "ready"
Background = Callable[[], Awaitable[None]]


def _no_problem() -> str | None:
    return None


@dataclass(frozen=True)
class PlatformParts:
    name: str
    status: str = READY  # "ready", or why the platform is left out
    routes: Sequence[web.AbstractRouteDef] = ()
    notifier: Notifier | None = None
    # Awaited by ``serve`` before it answers requests (Teams loads its signing keys).
    prepare: Callable[[], Awaitable[None]] | None = None
    background: Sequence[Background] = ()  # started by ``serve``, cancelled at close
    close: Callable[[], Awaitable[None]] | None = None  # lets in-flight work finish, then stops
    # A problem found only once running (Socket Mode did not connect): shown on /healthz.
    problem: Callable[[], str | None] = _no_problem
    # Readiness (``/readyz``): what this platform needs to work, checked when asked.
    checks: Sequence[Check] = ()
    # What the edge built, for its own tools and tests (the Slack listeners' dependencies).
    wiring: Any = None

    @property
    def ready(self) -> bool:
        return self.status == READY

    def current_status(self) -> str:
        found = self.problem()
        return f"left out: {found}" if found else self.status


Installer = Callable[[Settings, Context], PlatformParts]


def configured_status(settings: Settings, name: str) -> str:
    """``ready`` when the config has the platform's section and its secrets resolved; else why
    not (the line ``/healthz`` and the start-up log show)."""
    if name == "scim":  # the SCIM edge's section lives in the directory
        section: object = settings.config.directory.scim
        where = "a directory.scim section (its token)"
    else:
        section = getattr(settings.config, name)
        where = f"a {name}: section"
    if section is None:
        return f"not configured (add {where} to {settings.config_path})"
    missing = [u for u in settings.unavailable if u.component == name]
    if missing:
        return "left out: " + "; ".join(f"{u.source} {u.problem}" for u in missing)
    return READY


def left_out(settings: Settings, name: str) -> PlatformParts:
    """The parts of a platform the settings leave out: none, and why."""
    status = configured_status(settings, name)
    if status == READY:
        status = f"left out: the {name}: section is incomplete"
    return PlatformParts(name=name, status=status)
