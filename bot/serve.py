"""Running ``serve`` and ``worker`` until SIGTERM/SIGINT, then shutting down gracefully.

Both log in ``log_format`` (text or JSON lines) with every resolved secret redacted. With
``server.metrics`` set, each also listens there for ``/metrics``, ``/healthz`` and ``/readyz``
(``serve`` then keeps ``/metrics`` off its main port); without it, ``worker`` has no listener.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from importlib import metadata

from aiohttp import web

from bot.app import Gatepass, build
from bot.failures import PortInUse
from core import logs, metrics
from core.config.secrets import SecretValue
from core.config.settings import Settings

log = logging.getLogger("gatepass")


def configure_logging(settings: Settings) -> None:
    logs.configure(settings.config.log_format)
    logs.redact(secrets_of(settings))


def secrets_of(settings: Settings) -> list[str]:
    values: list[SecretValue | None] = [settings.encryption_key]
    if settings.slack is not None:
        values += [
            settings.slack.bot_token,
            settings.slack.signing_secret,
            settings.slack.app_token,
        ]
    if settings.teams is not None:
        values += [settings.teams.app_password]
    for secret in settings.integration_secrets.values():
        values += [v for k, v in secret.items() if k in ("private_key", "client_secret")]
    return [v.reveal() for v in values if v is not None]


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def _listen(runner: web.AppRunner, host: str, port: int, what: str) -> None:
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        raise PortInUse(host, port, what, error) from None


async def _monitoring(gatepass: Gatepass) -> web.AppRunner | None:
    """The ``server.metrics`` listener, when configured."""
    application, where = gatepass.monitoring(), gatepass.settings.config.server.metrics
    if application is None or where is None:
        return None
    runner = web.AppRunner(application, handle_signals=False, access_log=None)
    await runner.setup()
    await _listen(runner, where.host, where.port, "metrics")
    log.info("gatepass metrics on http://%s:%s/metrics", where.host, where.port)
    return runner


async def _serve(settings: Settings, *, run_worker: bool) -> None:
    metrics.process_role("serve", metadata.version("gatepass"))
    gatepass = await build(settings, run_worker=run_worker)
    runner = web.AppRunner(gatepass.web, handle_signals=False, access_log=None)
    await runner.setup()
    bind_host, bind_port = settings.config.server.host, settings.config.server.port
    await _listen(runner, bind_host, bind_port, "serve")
    try:
        monitoring = await _monitoring(gatepass)
    except PortInUse:
        await runner.cleanup()
        raise
    log.info("gatepass serving on http://%s:%s (/healthz, /readyz)", bind_host, bind_port)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await stop.wait()
    log.info("stopping: finishing the jobs in hand")
    if monitoring is not None:
        await monitoring.cleanup()
    await runner.cleanup()


def serve_forever(settings: Settings, *, run_worker: bool) -> None:
    """Serve on ``settings.config.server`` (the CLI applies ``--host``/``--port`` there first,
    through ``serving_on``, so every check sees the address really bound)."""
    configure_logging(settings)
    asyncio.run(_serve(settings, run_worker=run_worker))


async def _work(settings: Settings) -> None:
    """The worker alone: the same assembly as ``serve`` (notifiers included), no chat routes.
    On SIGTERM it finishes the jobs in hand, then what the platforms have in flight (Slack
    Home-tab refreshes), before it lets go of its connections."""
    metrics.process_role("worker", metadata.version("gatepass"))
    gatepass = await build(settings)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    monitoring = None
    try:
        monitoring = await _monitoring(gatepass)
        await gatepass.work(stop)
        log.info("stopping: finishing what the platforms have in flight")
    finally:
        if monitoring is not None:
            await monitoring.cleanup()
        await gatepass.close()


def work_forever(settings: Settings) -> None:
    configure_logging(settings)
    asyncio.run(_work(settings))
