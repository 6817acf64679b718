"""A `serve --no-worker` and a `worker`, each with its own metrics listener (server.metrics),
on one database: during a grant and its expiry the worker's /metrics counts the grant job, the
Atlas calls and the revoke lateness, and both report the active grants and the queue from the
database. Both log JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.lifecycle import Status
from core.domain.ports import SystemClock
from core.runtime import build_context
from core.storage.request_views import load_view
from tests.cli.test_serve import free_port, wait_for_health
from tests.fakes.atlas import PRIVATE_KEY, FakeAtlas
from tests.support.memory_integration import MemoryIntegration
from tests.support.metrics import Scrape, scrape
from tests.system.test_atlas_through_core import config
from tests.system.test_serve_restart import _approved, _synced, stop, until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start(command: list[str], path: Path, health: str, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *command, "--config", str(path)],
        cwd=path.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_health(health, process)
    return process


def write(tmp_path: Path, name: str, data: dict, *, port: int, metrics: int) -> Path:
    data = {**data, "server": {"host": "127.0.0.1", "port": port, "metrics": {"port": metrics}}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


async def test_serve_and_worker_each_expose_their_metrics(
    tmp_path: Path, sqlite_url: str, encryption_key: str
) -> None:
    async with FakeAtlas(clock=SystemClock(), pending_polls=0) as atlas:
        data = config(atlas.url, sqlite_url)
        data["access_flows"][0]["durations"] = ["3s", "1h"]
        data["jobs"] = {"poll_interval": "1s", "lease": "10s"}
        data["log_format"] = "json"
        serve_port, serve_metrics, worker_metrics = free_port(), free_port(), free_port()
        serve_config = write(tmp_path, "serve.yml", data, port=serve_port, metrics=serve_metrics)
        worker_config = write(tmp_path, "worker.yml", data, port=serve_port, metrics=worker_metrics)
        env = dict(
            os.environ,
            GATEPASS_KEY=encryption_key,
            ATLAS_PUBLIC="gpfakepublickey",
            ATLAS_PRIVATE=PRIVATE_KEY,
            PYTHONPATH=str(ROOT),
        )
        env.pop("GATEPASS_DATABASE_URL", None)
        settings = resolve_settings(parse_config(data), config_path=str(serve_config), environ=env)
        ctx = build_context(settings, integrations={"prod-atlas": MemoryIntegration("prod-atlas")})

        async def status_is(request_id: str, wanted: Status) -> bool:
            async with ctx.store.reading() as session:
                return (await load_view(session, ctx.directory, request_id)).status is wanted

        serve_url, worker_url = (f"http://127.0.0.1:{p}" for p in (serve_metrics, worker_metrics))
        serve = start(
            ["serve", "--no-worker"], serve_config, f"http://127.0.0.1:{serve_port}/healthz", env
        )
        worker = start(["worker"], worker_config, f"{worker_url}/healthz", env)
        outputs = []
        try:
            await until(lambda: _synced(ctx))
            request_id = await _approved(ctx, "alice@example.com", "sales", timedelta(seconds=3))
            await until(lambda: status_is(request_id, Status.ACTIVE))
            await _granted(
                await scrape(f"{worker_url}/metrics"), await scrape(f"{serve_url}/metrics")
            )
            await until(lambda: status_is(request_id, Status.EXPIRED), timeout=30)
            await _expired(
                await scrape(f"{worker_url}/metrics"), await scrape(f"{serve_url}/metrics")
            )
        finally:
            outputs = [stop(serve), stop(worker)]
            await ctx.store.close()
        for output in outputs:
            lines = [json.loads(line) for line in output.splitlines() if line.strip()]
            assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
            assert PRIVATE_KEY not in output and encryption_key not in output


async def _granted(worker: Scrape, serve: Scrape) -> None:
    assert worker.value("gatepass_info", role="worker") == 1
    assert serve.value("gatepass_info", role="serve") == 1
    assert worker.value("gatepass_job_attempts_total", kind="grant", outcome="done") == 1
    assert serve.value("gatepass_job_attempts_total", kind="grant") == 0  # serve runs no jobs
    assert worker.value("gatepass_atlas_calls_total", integration="prod-atlas") > 0
    assert (
        worker.value(
            "gatepass_atlas_calls_total", integration="prod-atlas", endpoint="GET /groups/{}"
        )
        > 0
    )
    # Read from the database: the same in every process. An expiry is queued for each end the
    # window has had (the tentative one before the Atlas call, the one recorded after it).
    queued = {scraped.value("gatepass_jobs_queued", kind="expire") for scraped in (worker, serve)}
    assert len(queued) == 1 and queued.pop() >= 1
    for scraped in (worker, serve):
        assert scraped.value("gatepass_active_grants", integration="prod-atlas") == 1


async def _expired(worker: Scrape, serve: Scrape) -> None:
    # One expiry per end the window has had: the tentative one (a no-op by then) may be a second.
    assert worker.value("gatepass_revoke_lateness_seconds_count", kind="expire") in (1, 2)
    assert worker.value("gatepass_revoke_lateness_seconds_sum", kind="expire") < 5
    assert serve.value("gatepass_revoke_lateness_seconds_count", kind="expire") == 0
    for scraped in (worker, serve):
        assert scraped.value("gatepass_active_grants", integration="prod-atlas") == 0
