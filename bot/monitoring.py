"""The routes operators and their tools read: ``/healthz``, ``/readyz`` and ``/metrics``, and
the middleware that gives every HTTP request an id (its log lines carry it) and counts it.

- ``/healthz`` is liveness: 200 whenever the process serves. It shows what is configured and
  the latest readiness findings, but never fails on them: a database outage must not make
  Kubernetes restart every pod.
- ``/readyz`` is readiness: 200 only when every configured part works (``bot.health``), else
  503 naming each broken part and why.
- ``/metrics`` is the Prometheus exposition (``core.metrics``), on the main port or, with
  ``server.metrics``, only on that separate listener.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.platform import configured_status
from core import logs, metrics

log = logging.getLogger("gatepass.http")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes: logged at DEBUG only
GATEPASS: web.AppKey[Any] = web.AppKey("gatepass")
PLATFORMS = ("slack", "teams")
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PLATFORM_OF = {"/slack/events": "slack", "/api/messages": "teams"}


def health(app: Any) -> dict[str, Any]:
    """What ``/healthz`` shows (``app`` is a ``bot.app.Gatepass``)."""
    settings = app.settings
    latest = app.readiness.latest
    integrations = {}
    for integration in settings.config.integrations:
        name = integration.name
        if name in app.ctx.integrations:
            found = latest.get(f"integration {name}")
            integrations[name] = "ready" if found is None or found.ok else found.problem
        else:
            integrations[name] = "left out: " + "; ".join(
                f"{u.source} {u.problem}"
                for u in settings.unavailable
                if u.component == f"integration {name}"
            )
    key_problem = [u for u in settings.unavailable if u.component == "encryption_key"]
    platforms = app.platforms
    shown = {}
    for name in PLATFORMS:
        status = platforms.get(name, configured_status(settings, name))
        found = latest.get(name)
        shown[name] = f"not ready: {found.problem}" if found and not found.ok else status
    return {
        "status": "ok",
        "platforms": shown,
        "integrations": integrations,
        "encryption_key": "ready"
        if not key_problem
        else f"left out: {key_problem[0].source} {key_problem[0].problem}",
        "worker": "running" if app.worker is not None else "off (--no-worker)",
    }


async def healthz(request: web.Request) -> web.Response:
    app = request.app[GATEPASS]
    body = health(app)
    database = app.readiness.latest.get("database")
    if database is None:  # nothing checked yet: look once (bounded; liveness never waits long)
        database = (await app.readiness.results()).get("database")
    body["database"] = "ok" if database is None or database.ok else database.problem
    body["ready"] = "see /readyz"
    return web.json_response(body)


async def readyz(request: web.Request) -> web.Response:
    ready, body = await request.app[GATEPASS].readiness.report()
    return web.json_response(body, status=200 if ready else 503)


async def metrics_route(request: web.Request) -> web.Response:
    app = request.app[GATEPASS]
    body = await metrics.scrape(app.ctx.store, app.ctx.clock.now())
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})


def health_routes(*, with_metrics: bool) -> list[web.RouteDef]:
    routes = [web.get("/healthz", healthz), web.get("/readyz", readyz)]
    return [*routes, web.get("/metrics", metrics_route)] if with_metrics else routes


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request gets an id (the caller's ``X-Request-Id`` when it is a sane one), which its
    log lines and its answer carry; the answer's status is counted by route and logged (the
    access log: method, route, status, milliseconds; never the query or the body)."""
    started = time.monotonic()
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _REQUEST_ID.match(given) else logs.new_request_id()
    route = request.match_info.route.resource
    path = route.canonical if route is not None else "unmatched"
    with logs.bound(request_id=request_id, platform=_PLATFORM_OF.get(path)):
        try:
            response = await handler(request)
        except web.HTTPException as error:
            metrics.http_request(path, error.status)
            error.headers[REQUEST_ID_HEADER] = request_id
            raise
        except Exception:
            metrics.http_request(path, 500)
            raise
        metrics.http_request(path, response.status)
        level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
        took = (time.monotonic() - started) * 1000
        log.log(level, "%s %s %s %.0fms", request.method, path, response.status, took)
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def monitoring_app(gatepass: Any) -> web.Application:
    """The separate listener of ``server.metrics``: ``/metrics`` and the health routes."""
    application = web.Application(middlewares=[request_context])
    application.router.add_routes(health_routes(with_metrics=True))
    application[GATEPASS] = gatepass
    return application
