"""What the Atlas benchmarks share: the Atlas wire fake (latency, Atlas's token bucket), a
database full of active grants, a config file, and ``gatepass`` processes run against them.

The fake runs in the benchmark's own process; every ``gatepass`` command runs in a process of
its own, so the figures are those of a real ``gatepass worker``. Lateness is measured where it
matters: when the fake Atlas received the call that removed the access.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from cryptography.fernet import Fernet

from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.jobs import handlers
from core.runtime import build_context
from core.storage.models import AccessRequest, Grant, IntegrationAccount, Job
from core.storage.store import Store
from tests.cli.test_serve import free_port
from tests.fakes.atlas import CLUSTER_NAME, PRIVATE_KEY, PROJECT_ID, FakeAtlas, RateLimit
from tests.support.gatepass_process import ROOT, GatepassProcess, launch
from tests.support.memory_integration import MemoryIntegration

INTEGRATION = "bench-atlas"
ATLAS_BUDGET_PER_S = 5000 / 60  # database users: refilled at 5,000 a minute per project
USERS_PATH = "/databaseUsers/admin/"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def config(atlas_url: str, database_url: str, *, people: int = 0) -> dict[str, Any]:
    users = [{"email": "bob@example.com", "name": "Bob Ray", "groups": ["dba"]}]
    users += [
        {"email": f"person{i}@example.com", "name": f"Person {i}", "groups": ["data-eng"]}
        for i in range(people)
    ]
    return {
        "database_url": database_url,
        "encryption_key": "env:GATEPASS_KEY",
        "directory": {"users": users},
        "integrations": [
            {
                "name": INTEGRATION,
                "type": "mongodb-atlas",
                "project_id": PROJECT_ID,
                "cluster_name": CLUSTER_NAME,
                "atlas_url": atlas_url,
                "secret": {"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
                "integration_owners": [{"attribute": "group", "value": "dba"}],
            }
        ],
        "access_flows": [
            {
                "name": "bench",
                "requestors": [{"attribute": "group", "value": "data-eng"}],
                "integration": INTEGRATION,
                "resources": ["database:*"],
                "permissions": ["read"],
                "durations": ["1h"],
            }
        ],
        "jobs": {
            "poll_interval": "1s",
            "discovery_interval": "24h",
            "reconcile_interval": "24h",
        },
    }


@dataclass
class Rig:
    atlas: FakeAtlas
    database_url: str
    folder: Path
    data: dict[str, Any]
    env: dict[str, str]
    processes: list[GatepassProcess] = field(default_factory=list)
    serve_urls: list[str] = field(default_factory=list)  # each serve's Slack events URL
    existing: set[str] = field(default_factory=set)  # Atlas's users before the benchmark
    ends: dict[str, datetime] = field(default_factory=dict)  # username -> grant end

    @property
    def path(self) -> Path:
        return self.folder / "gatepass.yml"

    def context(self) -> Any:
        """The benchmark's own view of the database (it never runs jobs)."""
        settings = resolve_settings(
            parse_config(self.data), config_path=str(self.path), environ=self.env
        )
        memory = MemoryIntegration(INTEGRATION)
        return build_context(settings, integrations={INTEGRATION: memory})

    async def start(self, command: str = "worker", *, index: int = 0) -> GatepassProcess:
        """``gatepass <command>``; each ``serve`` gets a config file with a port of its own."""
        path, port = self.path, 0
        if command == "serve":
            port = free_port()
            data = {**self.data, "server": {"host": "127.0.0.1", "port": port}}
            path = self.folder / f"gatepass-serve-{index}.yml"
            path.write_text(yaml.safe_dump(data))
        process = await launch(command, path, self.env, port=port)
        self.processes.append(process)
        if port:
            self.serve_urls.append(f"http://127.0.0.1:{port}/slack/events")
        return process

    def use_slack(self, api_url: str, *, bot_token: str, signing_secret: str) -> None:
        """Every process (workers too: they post the DMs) talks to the Slack Web API at
        ``api_url``; a ``serve`` also answers Slack's requests signed with ``signing_secret``."""
        self.data["slack"] = {
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": api_url,
        }
        self.env.update(SLACK_BOT_TOKEN=bot_token, SLACK_SIGNING_SECRET=signing_secret)
        self.path.write_text(yaml.safe_dump(self.data))

    def granted(self) -> int:
        """Database users Atlas holds that the benchmark did not make: the grants of the
        requests approved meanwhile."""
        users = self.atlas.users.get(PROJECT_ID, {})
        return sum(1 for name in users if name not in self.ends and name not in self.existing)

    async def stop(self) -> None:
        for process in self.processes:
            await process.stop()

    def removals(self) -> dict[str, list[float]]:
        """Username -> times Atlas removed (or narrowed) it: DELETEs answered 204."""
        calls: dict[str, list[float]] = {}
        for call in self.atlas.calls("DELETE", USERS_PATH):
            name = call.path.rsplit("/", 1)[1]
            if call.status == 204 and name in self.ends:  # not a grant made meanwhile
                calls.setdefault(name, []).append(call.at)
        return calls

    def figures(self, since: float) -> dict[str, Any]:
        removals = self.removals()
        lateness = [times[0] - self.ends[name].timestamp() for name, times in removals.items()]
        last = max((times[0] for times in removals.values()), default=since)
        drained = max(1e-9, last - since)
        rate = len(removals) / drained
        limit = self.atlas.rate_limit
        return {
            "revoked": len(removals),
            "of": len(self.ends),
            "revoked_twice": sum(len(t) - 1 for t in removals.values()),
            "atlas_calls": len(self.atlas.calls()),
            "atlas_statuses": dict(Counter(f"{c.method} {c.status}" for c in self.atlas.calls())),
            "atlas_429s": limit.throttled if limit else 0,
            "drain_s": drained,
            "revokes_per_s": rate,
            "atlas_budget_share": rate / ATLAS_BUDGET_PER_S,
            "lateness_p50_s": statistics.median(lateness) if lateness else float("nan"),
            "lateness_p99_s": percentile(lateness, 0.99),
            "lateness_max_s": max(lateness, default=float("nan")),
        }


def _rows(index: int, username: str, ends_at: datetime, now: datetime) -> dict[str, Any]:
    request_id = f"B{index:09d}"
    person = f"person{index}@example.com"
    delete_after = (ends_at + timedelta(minutes=30)).isoformat()
    return {
        "request": {
            "id": request_id,
            "flow": "bench",
            "integration": INTEGRATION,
            "resource_type": "database",
            "resource_name": "analytics",
            "resource_external_id": None,
            "permission": "read",
            "duration_seconds": int((ends_at - now).total_seconds()) + 1,
            "justification": "bench",
            "requester": person,
            "platform": "slack",
            "status": "active",
            "approvals_required": 1,
            "created_at": now,
            "starts_at": now,
            "ends_at": ends_at,
        },
        "grant": {
            "request_id": request_id,
            "integration": INTEGRATION,
            "person": person,
            "username": username,
            "connection": {},
            "ready": True,
        },
        "account": {
            "integration": INTEGRATION,
            "person": person,
            "username": username,
            "created_by_gatepass": True,
            "extra": {"delete_after": delete_after},
        },
        "job": {
            "kind": "expire",
            "payload": {"request_id": request_id},
            "dedupe_key": f"expire:{request_id}",
            "state": "queued",
            "run_at": ends_at,
            "attempts": 0,
            "max_attempts": 8,
            "created_at": now,
        },
    }


async def insert_grants(rig: Rig, store: Store, ends: list[datetime]) -> None:
    """Active grants, one person each, whose Atlas users exist, expiring at ``ends``."""
    now = datetime.now(UTC)
    for start in range(0, len(ends), 1000):
        rows = []
        for i, end in enumerate(ends[start : start + 1000], start):
            username = f"gp-bench-{i}"
            rig.atlas.add_db_user(
                username,
                roles=[{"roleName": "read", "databaseName": "analytics"}],
                delete_after=(end + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            rig.ends[username] = end
            rows.append(_rows(i, username, end, now))
        async with store.transaction() as session:
            await session.execute(sa.insert(AccessRequest), [r["request"] for r in rows])
            await session.execute(sa.insert(Grant), [r["grant"] for r in rows])
            await session.execute(sa.insert(IntegrationAccount), [r["account"] for r in rows])
            await session.execute(sa.insert(Job), [r["job"] for r in rows])


async def quiet_periodic(ctx: Any) -> None:
    """The periodic jobs of this time slot marked done, so that a 5,000-person refresh does
    not run in the middle of a revocation benchmark."""
    await handlers.schedule_periodic(ctx)
    async with ctx.store.transaction() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.kind.in_(["sync", "reconcile", "refresh"]))  # type: ignore[attr-defined]
            .values(state="done")
        )


@contextmanager
def database(kind: str) -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory() as folder:
        if kind == "sqlite":
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", Path(folder)
            return
        from tests.support import databases

        url = databases.create_database()
        try:
            yield url, Path(folder)
        finally:
            databases.drop_database(url)


def make_rig(
    atlas: FakeAtlas, url: str, folder: Path, *, people: int = 0, tree: Path | None = None
) -> Rig:
    """``tree``: the checkout whose ``gatepass`` runs (default this one), so that the same
    benchmark measures another version of the code in the same conditions."""
    data = config(atlas.url, url, people=people)
    (folder / "gatepass.yml").write_text(yaml.safe_dump(data))
    env = dict(
        os.environ,
        GATEPASS_KEY=Fernet.generate_key().decode(),
        ATLAS_PUBLIC="gpfakepublickey",
        ATLAS_PRIVATE=PRIVATE_KEY,
        PYTHONPATH=str(tree or ROOT),
    )
    env.pop("GATEPASS_DATABASE_URL", None)
    rig = Rig(atlas, url, folder, data, env, existing=set(atlas.users.get(PROJECT_ID, {})))
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade", "--config", str(rig.path)],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )
    return rig


def fake_atlas(*, latency: float, users: int, bucket: bool = True) -> FakeAtlas:
    atlas = FakeAtlas(
        max_users_per_project=users + 1000,
        pending_polls=0,
        rate_limit=RateLimit(burst=10_000, per_minute=5_000) if bucket else None,
    )
    if latency > 0:
        atlas.slow_down(latency, contains="/databaseUsers")
    return atlas


def print_figures(title: str, figures: dict[str, Any]) -> None:
    print(title)
    for key, value in figures.items():
        print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
