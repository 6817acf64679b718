"""Append-only, hash-chained audit events.

Each event holds the hash of the one before it; ``audit_head`` holds the newest hash and is locked
by every append, so concurrent writers queue instead of forking the chain. ``verify`` recomputes
the chain and names the first event that was altered, removed or inserted.
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

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.domain.lifecycle import Status
from core.storage.models import AuditEvent, AuditHead
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
)


def _check_detail(detail: Mapping[str, Any]) -> None:
    for key in detail:
        lowered = key.lower()
        if any(word in lowered for word in _FORBIDDEN_DETAIL_WORDS):
            raise ValueError(
                f"audit detail key {key!r} looks like a secret; secrets are never audited"
            )


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    body = {
        "seq": event.seq,
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
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _lock_head(session: AsyncSession) -> AuditHead:
    """The chain's head row, locked until the transaction ends (made on first use)."""
    await insert_or_ignore(session, AuditHead, {"id": 1, "seq": 0, "hash": GENESIS}, key=["id"])
    return (
        await session.execute(
            select(AuditHead)
            .where(AuditHead.id == 1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


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
    """Append one event in the caller's transaction."""
    detail = dict(detail or {})
    _check_detail(detail)
    head = await _lock_head(session)
    event = AuditEvent(
        seq=head.seq + 1,
        at=at,
        actor=actor,
        action=action,
        request_id=request_id,
        from_status=from_status,
        to_status=to_status,
        platform=platform,
        detail=detail,
        prev_hash=head.hash,
        hash="",
    )
    event.hash = event_hash(head.hash, event)
    session.add(event)
    head.seq = event.seq  # type: ignore[assignment]
    head.hash = event.hash
    await session.flush()
    await _announce(session, event)
    return event


async def _announce(session: AsyncSession, event: AuditEvent) -> None:
    """The one hook from the audit log to outbound webhooks: a delivery for each webhook that
    wants this event, queued in this transaction (``core.webhooks.outbox``)."""
    await outbox.queue(
        session,
        action=event.action,
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        request_id=event.request_id,
        platform=event.platform,
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


async def _events(
    session: AsyncSession, since: datetime | None = None
) -> AsyncIterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)  # type: ignore[arg-type]
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    result = await session.stream(query.execution_options(yield_per=1000))
    async for row in result.scalars():
        yield row


async def verify(session: AsyncSession) -> VerifyResult:
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    async for event in _events(session):
        if event.seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                f"event {expected_seq} is missing (next is {event.seq})",
                expected_seq,
            )
        if event.prev_hash != expected_prev:
            return VerifyResult(
                False,
                checked,
                f"event {event.seq} does not follow event {event.seq - 1}",
                event.seq,
            )
        if event_hash(expected_prev, event) != event.hash:
            return VerifyResult(False, checked, f"event {event.seq} was altered", event.seq)
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
    return VerifyResult(True, checked)


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
