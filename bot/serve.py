"""Running ``serve`` and ``worker`` until SIGTERM/SIGINT, then shutting down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import build
from core.config.settings import Settings

log = logging.getLogger("gatepass")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def _serve(settings: Settings, *, run_worker: bool) -> None:
    gatepass = await build(settings, run_worker=run_worker)
    runner = web.AppRunner(gatepass.web, handle_signals=False)
    await runner.setup()
    bind_host, bind_port = settings.config.server.host, settings.config.server.port
    site = web.TCPSite(runner, bind_host, bind_port)
    await site.start()
    log.info("gatepass serving on http://%s:%s (health: /healthz)", bind_host, bind_port)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await stop.wait()
    log.info("stopping: finishing the jobs in hand")
    await runner.cleanup()


def serve_forever(settings: Settings, *, run_worker: bool) -> None:
    """Serve on ``settings.config.server`` (the CLI applies ``--host``/``--port`` there first,
    through ``serving_on``, so every check sees the address really bound)."""
    _configure_logging()
    asyncio.run(_serve(settings, run_worker=run_worker))


async def _work(settings: Settings) -> None:
    """The worker alone: the same assembly as ``serve`` (notifiers included), no HTTP server.
    On SIGTERM it finishes the jobs in hand, then what the platforms have in flight (Slack
    Home-tab refreshes), before it lets go of its connections."""
    gatepass = await build(settings)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    try:
        await gatepass.work(stop)
        log.info("stopping: finishing what the platforms have in flight")
    finally:
        await gatepass.close()


def work_forever(settings: Settings) -> None:
    _configure_logging()
    asyncio.run(_work(settings))
