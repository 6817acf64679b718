"""A domain to test against: the example directory and flows, a moved clock, an in-memory
integration and a recording platform."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from core.config.schema import parse_config
from core.config.secrets import SecretValue
from core.context import Context
from core.domain.directory import ConfigDirectory
from core.domain.ports import Clock, DiscoveredResource
from core.jobs.handlers import job_kinds
from core.jobs.queue import Backoff, Bell, Worker
from core.storage.store import Store
from core.storage.vault import Vault
from core.webhooks import outbox
from tests.support.clock import ManualClock
from tests.support.memory_integration import MemoryIntegration
from tests.support.recording_notifier import RecordingNotifier

BASE_CONFIG: dict[str, Any] = {
    "directory": {
        "users": [
            {
                "email": "alice@example.com",
                "name": "Alice Doe",
                "groups": ["data-eng"],
                "attributes": {"team": "analytics"},
            },
            {"email": "bob@example.com", "name": "Bob Ray", "groups": ["dba"]},
            {"email": "carol@example.com", "name": "Carol Lin", "groups": ["dba", "platform"]},
            {
                "email": "dave@example.com",
                "name": "Dave Kim",
                "groups": ["data-eng", "sales-owners"],
            },
            {"email": "erin@example.com", "name": "Erin Fox", "groups": ["platform"]},
        ]
    },
    "integrations": [
        {
            "name": "prod-atlas",
            "type": "mongodb-atlas",
            "project_id": "64b0c0ffee0123456789abcd",
            "cluster_name": "Cluster0",
            "secret": "env:ATLAS_KEYS",
            "integration_owners": [{"attribute": "group", "value": "dba"}],
            "resource_owner": {"tag_key": "owner", "attribute": "group"},
        }
    ],
    "access_flows": [
        {
            "name": "analytics-read",
            "requestors": [{"attribute": "group", "value": "data-eng"}],
            "integration": "prod-atlas",
            "resources": ["database:analytics*", "database:sales", "cluster:Cluster0"],
            "permissions": ["read", "readWrite", "clusterMonitor"],
            "durations": ["15m", "1h", "4h", "8h"],
            "approvers": "owners",
            "require_justification": True,
            "pending_timeout": "24h",
            "reminders": ["30m", "2h"],
        }
    ],
}

RESOURCES = [
    DiscoveredResource(
        "project", "Prod", external_id="64b0c0ffee0123456789abcd", tags={"owner": "platform"}
    ),
    DiscoveredResource("cluster", "Cluster0", parent="project:Prod", tags={"owner": "dba"}),
    DiscoveredResource("database", "analytics", parent="cluster:Cluster0"),
    DiscoveredResource(
        "database", "analytics_eu", parent="cluster:Cluster0", tags={"owner": "data-eng"}
    ),
    DiscoveredResource(
        "database", "sales", parent="cluster:Cluster0", tags={"owner": "sales-owners"}
    ),
    DiscoveredResource("database", "billing", parent="cluster:Cluster0"),
]


def config_with(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    for key, value in changes.items():
        config[key] = value
    return config


@dataclass
class Domain:
    ctx: Context
    clock: ManualClock
    atlas: MemoryIntegration
    chat: RecordingNotifier
    worker: Worker

    async def run_jobs(self) -> int:
        return await self.worker.run_due()

    async def seed_resources(self, found: list[DiscoveredResource] | None = None) -> None:
        from core.storage import resources

        async with self.ctx.store.transaction() as session:
            await resources.replace_discovered(
                session, "prod-atlas", found or RESOURCES, at=self.clock.now()
            )


async def make_domain(
    database_url: str,
    key: str,
    config: dict[str, Any] | None = None,
    *,
    clock: Clock | None = None,
    webhook_secrets: dict[str, str] | None = None,
) -> Domain:
    """``clock``: another clock for the domain's context (the ManualClock stays in ``Domain``).
    The config's webhooks are subscribed to, with ``webhook_secrets`` (by webhook name)."""
    parsed = parse_config(config or BASE_CONFIG)
    manual = ManualClock()
    atlas = MemoryIntegration("prod-atlas")
    chat = RecordingNotifier()
    bell = Bell()
    store = Store.from_url(database_url)
    outbox.subscribe(store, parsed.webhooks)
    ctx = Context(
        config=parsed,
        directory=ConfigDirectory(parsed.directory),
        store=store,
        clock=clock or manual,
        vault=Vault(SecretValue(key)),
        integrations={"prod-atlas": atlas},
        doorbell=bell,
        webhook_secrets={k: SecretValue(v) for k, v in (webhook_secrets or {}).items()},
    )
    worker = Worker(ctx, job_kinds([chat]), backoff=Backoff(base=1, cap=60, jitter=0.0), bell=bell)
    domain = Domain(ctx, manual, atlas, chat, worker)
    await domain.seed_resources()
    return domain
