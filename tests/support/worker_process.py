"""Runs the real job worker in its own process, against a database and a FileIntegration.

python -m tests.support.worker_process DATABASE_URL FOLDER KEY [SLOW_SECONDS]
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

from core.config.schema import parse_config
from core.config.secrets import SecretValue
from core.context import Context
from core.domain.directory import ConfigDirectory
from core.domain.ports import SystemClock
from core.jobs.handlers import job_kinds
from core.jobs.queue import Backoff, Worker
from core.storage.store import Store
from core.storage.vault import Vault
from tests.support.domain import BASE_CONFIG
from tests.support.file_integration import FileIntegration


async def main(url: str, folder: Path, key: str, slow: float) -> None:
    config = parse_config(BASE_CONFIG)
    ctx = Context(
        config=config,
        directory=ConfigDirectory(config.directory),
        store=Store.from_url(url),
        clock=SystemClock(),
        vault=Vault(SecretValue(key)),
        integrations={"prod-atlas": FileIntegration("prod-atlas", folder, slow_seconds=slow)},
    )
    worker = Worker(
        ctx,
        job_kinds(()),
        lease=timedelta(seconds=2),
        poll_interval=0.05,
        backoff=Backoff(base=0.2, cap=1),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("worker ready", flush=True)
    await worker.run(stop)
    await ctx.store.close()


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1],
            Path(sys.argv[2]),
            sys.argv[3],
            float(sys.argv[4]) if len(sys.argv) > 4 else 0.0,
        )
    )
