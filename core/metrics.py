"""Prometheus metrics: the counters and histograms core and the edges move, and the gauges read
from the database at scrape time.

Counters and histograms live in this process (``REGISTRY``): ``serve`` and ``worker`` each
expose their own on ``/metrics``, and Prometheus tells them apart by their ``instance``. Queue
depth and age and active grants are read from the database when ``/metrics`` is scraped
(:func:`scrape`), so every process reports the same, true values: aggregate them with
``max``, not ``sum``.

Core code calls the small functions below; it never sees prometheus-client's types.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from core.domain.lifecycle import Status
from core.storage.models import AccessRequest, Job, JobState
from core.storage.store import Store

log = logging.getLogger("gatepass.metrics")

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
REGISTRY: Final = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

LATENESS_BUCKETS: Final = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
ACK_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10)
WAIT_BUCKETS: Final = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
REVOKE_KINDS: Final = frozenset({"expire", "revoke"})

INFO = Gauge(
    "gatepass_info", "This process: its role and version.", ["role", "version"], registry=REGISTRY
)
HTTP_REQUESTS = Counter(
    "gatepass_http_requests",
    "HTTP requests served, by route and status code.",
    ["route", "code"],
    registry=REGISTRY,
)
ACCESS_REQUESTS = Counter(
    "gatepass_access_requests",
    "Access requests reaching each status (pending, approved, denied, active, expired, ...).",
    ["status"],
    registry=REGISTRY,
)
DECISIONS = Counter(
    "gatepass_decisions",
    "Approvers' decisions, by outcome and platform.",
    ["outcome", "platform"],
    registry=REGISTRY,
)
JOB_ATTEMPTS = Counter(
    "gatepass_job_attempts",
    "Job runs, by kind and outcome (done, rescheduled, retry, gave_up).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOB_GIVE_UPS = Counter(
    "gatepass_job_give_ups",
    "Jobs given up (or whose owners were told so), by kind.",
    ["kind"],
    registry=REGISTRY,
)
REVOKE_LATENESS = Histogram(
    "gatepass_revoke_lateness_seconds",
    "Seconds between when access was due to go (the job's first due time) and when it went.",
    ["kind"],
    buckets=LATENESS_BUCKETS,
    registry=REGISTRY,
)
ATLAS_CALLS = Counter(
    "gatepass_atlas_calls",
    "Atlas Administration API calls, by integration, endpoint and status ('unreachable').",
    ["integration", "endpoint", "status"],
    registry=REGISTRY,
)
ATLAS_RETRY_WAIT = Histogram(
    "gatepass_atlas_retry_wait_seconds",
    "Waits before retrying Atlas (Retry-After plus backoff): slept inline, or left to the worker.",
    ["integration", "handled"],
    buckets=WAIT_BUCKETS,
    registry=REGISTRY,
)
CHAT_API_ERRORS = Counter(
    "gatepass_chat_api_errors",
    "Errors from the Slack Web API and the Bot Framework, by error.",
    ["platform", "error"],
    registry=REGISTRY,
)
ACK_LATENCY = Histogram(
    "gatepass_interaction_ack_seconds",
    "Seconds from receiving a chat interaction to answering (acknowledging) it.",
    ["platform", "transport"],
    buckets=ACK_BUCKETS,
    registry=REGISTRY,
)


# --------------------------------------------------------------------------- what code calls


def process_role(role: str, version: str) -> None:
    INFO.labels(role=role, version=version).set(1)


def http_request(route: str, code: int) -> None:
    HTTP_REQUESTS.labels(route=route, code=str(code)).inc()


def request_reached(session: AsyncSession, status: str) -> None:
    """Count a request reaching ``status`` once ``session`` commits (not if it rolls back)."""
    pending: list[str] = session.sync_session.info.setdefault("gatepass_statuses", [])
    pending.append(str(status))


@sa.event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for status in session.info.pop("gatepass_statuses", ()):
        ACCESS_REQUESTS.labels(status=status).inc()


@sa.event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("gatepass_statuses", None)


def decision(outcome: str, platform: str) -> None:
    DECISIONS.labels(outcome=str(outcome), platform=platform or "unknown").inc()


def job_ran(kind: str, outcome: str) -> None:
    JOB_ATTEMPTS.labels(kind=kind, outcome=outcome).inc()


def job_gave_up(kind: str) -> None:
    JOB_GIVE_UPS.labels(kind=kind).inc()


def job_done(kind: str, *, due: datetime, now: datetime) -> None:
    """A finished job; for a revocation, how late the access went."""
    job_ran(kind, "done")
    if kind in REVOKE_KINDS:
        REVOKE_LATENESS.labels(kind=kind).observe(max(0.0, (now - due).total_seconds()))


_ATLAS_COLLECTIONS: Final = frozenset(
    {
        "groups",
        "orgs",
        "clusters",
        "processes",
        "databases",
        "users",
        "databaseUsers",
        "status",
        "invites",
        "teams",
        "apiKeys",
        "accessList",
        "customDBRoles",
        "roles",
        "tags",
    }
)
_ACTION = re.compile(r"^(?P<head>[^:]*)(?P<action>:[A-Za-z]+)?$")


def atlas_endpoint(method: str, path: str) -> str:
    """``GET /groups/{}/databaseUsers/{}/{}``: ids replaced, so the label stays small."""
    parts = []
    for segment in path.split("?", 1)[0].strip("/").split("/"):
        match = _ACTION.match(segment)
        head, action = (match["head"], match["action"] or "") if match else (segment, "")
        parts.append((head if head in _ATLAS_COLLECTIONS else "{}") + action)
    return f"{method} /{'/'.join(parts)}"


def atlas_call(integration: str, method: str, path: str, status: int | str) -> None:
    ATLAS_CALLS.labels(
        integration=integration, endpoint=atlas_endpoint(method, path), status=str(status)
    ).inc()


def atlas_retry_wait(integration: str, seconds: float, *, inline: bool) -> None:
    ATLAS_RETRY_WAIT.labels(
        integration=integration, handled="inline" if inline else "worker"
    ).observe(seconds)


def chat_api_error(platform: str, error: str) -> None:
    CHAT_API_ERRORS.labels(platform=platform, error=error[:64] or "unknown").inc()


def ack_latency(platform: str, transport: str, seconds: float) -> None:
    ACK_LATENCY.labels(platform=platform, transport=transport).observe(seconds)


# --------------------------------------------------------------------------- scraping


class _Snapshot(Collector):
    """The gauges read from the database for one scrape."""

    def __init__(self) -> None:
        self.up = 0.0
        self.queued: dict[str, float] = {}
        self.due: dict[str, float] = {}
        self.oldest_due: dict[str, float] = {}
        self.active: dict[str, float] = {}

    def collect(self) -> Iterator[Metric]:
        yield _gauge(
            "gatepass_database_up",
            "1 when this scrape could read the database.",
            None,
            {"": self.up},
        )
        yield _gauge(
            "gatepass_jobs_queued", "Jobs waiting (due or not), by kind.", "kind", self.queued
        )
        yield _gauge(
            "gatepass_jobs_due", "Jobs due now and not running, by kind.", "kind", self.due
        )
        yield _gauge(
            "gatepass_job_oldest_due_age_seconds",
            "How long the oldest due job of each kind has been waiting.",
            "kind",
            self.oldest_due,
        )
        yield _gauge(
            "gatepass_active_grants", "Active grants, by integration.", "integration", self.active
        )


def _gauge(name: str, doc: str, label: str | None, values: dict[str, float]) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=[label] if label else None)
    for key, value in sorted(values.items()):
        family.add_metric([key] if label else [], value)
    return family


async def _read(store: Store, now: datetime, snapshot: _Snapshot) -> None:
    queued = col(Job.state) == JobState.QUEUED
    free = sa.or_(col(Job.locked_until).is_(None), col(Job.locked_until) < now)
    async with store.reading() as session:
        for kind, count in await session.execute(
            sa.select(col(Job.kind), sa.func.count()).where(queued).group_by(col(Job.kind))
        ):
            snapshot.queued[kind] = float(count)
        due = sa.select(col(Job.kind), sa.func.count(), sa.func.min(col(Job.run_at)))
        for kind, count, oldest in await session.execute(
            due.where(queued, col(Job.run_at) <= now, free).group_by(col(Job.kind))
        ):
            snapshot.due[kind] = float(count)
            snapshot.oldest_due[kind] = max(0.0, (now - _aware(oldest, now)).total_seconds())
        active = sa.select(col(AccessRequest.integration), sa.func.count()).where(
            col(AccessRequest.status) == Status.ACTIVE
        )
        for name, count in await session.execute(active.group_by(col(AccessRequest.integration))):
            snapshot.active[name] = float(count)
    snapshot.up = 1.0


def _aware(value: Any, now: datetime) -> datetime:
    if isinstance(value, str):  # SQLite's min() hands back the stored text
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=now.tzinfo)
    return value if isinstance(value, datetime) else now


class _Process(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


async def scrape(store: Store | None, now: datetime) -> bytes:
    """The exposition text: this process's metrics plus, with ``store``, the database's."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Process())
    if store is not None:
        snapshot = _Snapshot()
        try:
            await _read(store, now, snapshot)
        except Exception as error:  # a scrape still answers, saying the database is down
            log.warning("metrics: cannot read the database: %s", type(error).__name__)
        registry.register(snapshot)
    return generate_latest(registry)
