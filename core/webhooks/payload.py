"""The body of a webhook delivery: the event and the request as it stands at that moment.

Built inside the transaction that causes the event, so the body describes exactly the state that
was committed; stored, and sent byte for byte on every attempt. Its JSON Schema is
``payload.schema.json`` beside this file (``SCHEMA_PATH``). It never holds a password, a key or
a token: the grant's connection details and credentials are not read here at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.storage.models import AccessRequest, Decision, RequestApprover

SCHEMA_PATH = Path(__file__).with_name("payload.schema.json")
SCHEMA_VERSION = 1
_FORBIDDEN_KEY_WORDS = ("password", "secret", "token", "private_key", "api_key", "ciphertext")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _times(request: AccessRequest) -> dict[str, str | None]:
    return {
        "created_at": _time(request.created_at),
        "pending_until": _time(request.pending_until),
        "decided_at": _time(request.decided_at),
        "starts_at": _time(request.starts_at),
        "ends_at": _time(request.ends_at),
        "ended_at": _time(request.ended_at),
    }


async def request_snapshot(session: AsyncSession, request_id: str) -> dict[str, Any] | None:
    """The request, its approvers and its decisions, as this transaction sees them."""
    request = await session.get(AccessRequest, request_id)
    if request is None:
        return None
    approvers = (
        await session.execute(
            select(RequestApprover)
            .where(col(RequestApprover.request_id) == request_id)
            .order_by(col(RequestApprover.email))
        )
    ).scalars()
    decisions = (
        await session.execute(
            select(Decision)
            .where(col(Decision.request_id) == request_id)
            .order_by(col(Decision.decided_at), col(Decision.id))
        )
    ).scalars()
    return {
        "id": request.id,
        "status": str(request.status),
        "requester": request.requester,
        "flow": request.flow,
        "integration": request.integration,
        "resource": {
            "type": request.resource_type,
            "name": request.resource_name,
            "external_id": request.resource_external_id,
        },
        "permission": request.permission,
        "duration_seconds": request.duration_seconds,
        "justification": request.justification,
        "platform": request.platform,
        "approvals_required": request.approvals_required,
        "extends_request_id": request.extends_request_id,
        "approvers": [
            {"email": a.email, "reason": a.reason, "escalation": a.escalation} for a in approvers
        ],
        "decisions": [
            {
                "approver": d.approver,
                "outcome": str(d.outcome),
                "reason": d.reason,
                "platform": d.platform,
                "decided_at": _time(d.decided_at),
            }
            for d in decisions
        ],
        "times": _times(request),
        "decided_by": request.decided_by,
        "decision_reason": request.decision_reason,
        "end_reason": request.end_reason,
        "failure": request.failure,
    }


def event_body(
    delivery_id: str,
    event: str,
    *,
    at: datetime,
    actor: str,
    platform: str | None,
    request: Mapping[str, Any] | None,
    test: bool = False,
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "id": delivery_id,
        "event": event,
        "occurred_at": at.isoformat(),
        "actor": actor,
        "platform": platform,
        "test": test,
        "request": dict(request) if request is not None else None,
    }


def _check_keys(value: Any, where: str = "") -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if any(word in str(key).lower() for word in _FORBIDDEN_KEY_WORDS):
                raise ValueError(f"webhook payload key {where}{key} looks like a secret")
            _check_keys(item, f"{where}{key}.")
    elif isinstance(value, list):
        for item in value:
            _check_keys(item, where)


def encode(body: Mapping[str, Any]) -> str:
    """The body as sent: compact JSON, keys sorted; a key that looks like a secret is refused."""
    _check_keys(body)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
