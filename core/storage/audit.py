"""Append-only, hash-chained audit events.

Writing an event is one INSERT in the caller's transaction: its row number (``seq``) comes
from the database's sequence, and nothing is locked, so concurrent transactions of every
process never queue behind one another for the audit log. The chain is computed after the
commit, in order, by one sequencer at a time (``chain_pending``; every worker runs it with its
heartbeat, and ``audit verify`` / ``export`` run it first): it holds the ``audit_head`` row (the
chain's last position and hash), gives each committed event not yet chained the next position
(``chain_seq``) and the hash of the one before it. ``verify`` recomputes the chain and names the
first event that was altered, removed or inserted; events not yet chained are counted apart.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.domain.lifecycle import Status
from core.storage.models import AuditEvent, AuditHead
from core.storage.store import Store
from core.storage.upsert import insert_or_ignore
from core.webhooks import outbox

GENESIS = "0" * 64
_FORBIDDEN_DETAIL_WORDS = ("password", "secret", "token", "private_key", "api_key")
EXPORT_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "request_id",
    "from_status",
    "to_status",
    "platform",
    "detail",
    "prev_hash",
    "hash",
    "chain_seq",
)


def _check_detail(detail: Mapping[str, Any]) -> None:
    for key in detail:
        lowered = key.lower()
        if any(word in lowered for word in _FORBIDDEN_DETAIL_WORDS):
            raise ValueError(
                f"audit detail key {key!r} looks like a secret; secrets are never audited"
            )


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    """The event's hash: its fields, its chain position and the hash before it. ``seq`` is the
    chain position (for the events written before the sequencer, equal to the row number);
    a row number that differs is covered too."""
    body: dict[str, Any] = {
        "seq": event.chain_seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "request_id": event.request_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "platform": event.platform,
        "detail": event.detail,
        "prev_hash": prev_hash,
    }
    if event.seq != event.chain_seq:
        body["row"] = event.seq
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    request_id: str | None = None,
    from_status: Status | None = None,
    to_status: Status | None = None,
    platform: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (chained after the commit)."""
    detail = dict(detail or {})
    _check_detail(detail)
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        request_id=request_id,
        from_status=from_status,
        to_status=to_status,
        platform=platform,
        detail=detail,
    )
    session.add(event)
    await _announce(session, event)
    return event


async def _announce(session: AsyncSession, event: AuditEvent) -> None:
    """The one hook from the audit log to outbound webhooks: a delivery for each webhook that
    wants this event, queued in this transaction (``core.webhooks.outbox``). Only then is the
    event flushed for its number (a request's deliveries go in event order)."""
    if not outbox.wanted(session, event.action):
        return
    await session.flush()
    await outbox.queue(
        session,
        action=event.action,
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        request_id=event.request_id,
        platform=event.platform,
    )


def event_row(
    *,
    at: datetime,
    actor: str,
    action: str,
    request_id: str | None = None,
    from_status: Status | None = None,
    to_status: Status | None = None,
    platform: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One event as a row for a bulk insert (``record_many``)."""
    detail = dict(detail or {})
    _check_detail(detail)
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "request_id": request_id,
        "from_status": from_status,
        "to_status": to_status,
        "platform": platform,
        "detail": detail,
        "prev_hash": "",
        "hash": "",
    }


async def record_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Append many events (``event_row``) in one statement of the caller's transaction, and
    queue the webhook deliveries they cause (as :func:`record` does)."""
    if not rows:
        return
    if not any(outbox.wanted(session, row["action"]) for row in rows):
        await session.execute(sa.insert(AuditEvent), rows)
        return
    inserted = sa.insert(AuditEvent).returning(col(AuditEvent.seq), sort_by_parameter_order=True)
    numbers = (await session.execute(inserted, rows)).scalars().all()
    for row, seq in zip(rows, numbers, strict=True):
        await outbox.queue(
            session,
            action=row["action"],
            seq=seq,
            at=row["at"],
            actor=row["actor"],
            request_id=row["request_id"],
            platform=row["platform"],
        )


async def _claim_head(session: AsyncSession) -> AuditHead | None:
    """The chain's head row, held until the transaction ends; None when another sequencer
    holds it (PostgreSQL; on SQLite the transaction already holds the database's write lock)."""
    await insert_or_ignore(session, AuditHead, {"id": 1, "seq": 0, "hash": GENESIS}, key=["id"])
    return (
        await session.execute(
            select(AuditHead)
            .where(AuditHead.id == 1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def chain_pending(session: AsyncSession, *, limit: int = 2000) -> int:
    """Chain up to ``limit`` committed events not chained yet, oldest row first, in the
    caller's transaction; how many. 0 when another sequencer is at work."""
    head = await _claim_head(session)
    if head is None:
        return 0
    events = (
        await session.execute(
            select(AuditEvent)
            .where(col(AuditEvent.chain_seq).is_(None))
            .order_by(col(AuditEvent.seq))
            .limit(limit)
        )
    ).scalars()
    position, previous, chained = head.seq, head.hash, 0
    for event in events:
        position += 1
        event.chain_seq, event.prev_hash = position, previous
        event.hash = previous = event_hash(previous, event)
        chained += 1
    head.seq, head.hash = position, previous
    await session.flush()
    return chained


async def chain_all(store: Store) -> int:
    """Chain every committed event not chained yet (a sequencer's round); how many."""
    total = 0
    while True:
        async with store.transaction() as session:
            chained = await chain_pending(session)
        total += chained
        if chained < 2000:
            return total


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None
    pending: int = 0  # committed events the sequencer has not chained yet


async def _events(
    session: AsyncSession, since: datetime | None = None, *, chained: bool = False
) -> AsyncIterator[AuditEvent]:
    """Chain order; events not chained yet (unless ``chained``) after, by row number."""
    query = select(AuditEvent).order_by(
        col(AuditEvent.chain_seq).is_(None), col(AuditEvent.chain_seq), col(AuditEvent.seq)
    )
    if chained:
        query = query.where(col(AuditEvent.chain_seq).is_not(None))
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    result = await session.stream(query.execution_options(yield_per=1000))
    async for row in result.scalars():
        yield row


def _named(event: AuditEvent) -> str:
    row = f" (row {event.seq})" if event.seq != event.chain_seq else ""
    return f"event {event.chain_seq}{row}"


async def verify(session: AsyncSession) -> VerifyResult:
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    async for event in _events(session, chained=True):
        if event.chain_seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                f"event {expected_seq} is missing (next is {event.chain_seq}): removed",
                expected_seq,
            )
        if event.prev_hash != expected_prev:
            return VerifyResult(
                False,
                checked,
                f"{_named(event)} does not follow event {expected_seq - 1}",
                event.chain_seq,
            )
        if event_hash(expected_prev, event) != event.hash:
            return VerifyResult(False, checked, f"{_named(event)} was altered", event.chain_seq)
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != expected_prev:
        return VerifyResult(
            False,
            checked,
            f"events after {checked} were removed (the log had {head_seq})",
            checked + 1,
        )
    pending = (
        await session.execute(sa.select(sa.func.count()).where(col(AuditEvent.chain_seq).is_(None)))
    ).scalar_one()
    return VerifyResult(True, checked, pending=pending)


def _export_row(event: AuditEvent) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in EXPORT_FIELDS}
    row["at"] = event.at.isoformat()
    return row


async def export(
    session: AsyncSession, *, fmt: str, since: datetime | None = None
) -> AsyncIterator[str]:
    """Yield the log as JSON lines or CSV, oldest first."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError("format must be jsonl or csv")
    if fmt == "csv":
        yield ",".join(EXPORT_FIELDS) + "\r\n"
    async for event in _events(session, since):
        row = _export_row(event)
        if fmt == "jsonl":
            yield json.dumps(row, sort_keys=True, default=str) + "\n"
            continue
        row["detail"] = json.dumps(row["detail"], sort_keys=True)
        buffer = io.StringIO()
        csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS).writerow(row)
        yield buffer.getvalue()
