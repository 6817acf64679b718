"""Moving a request along the lifecycle table (``core.domain.lifecycle``): one ``transition()``.

``transition()`` is a compare-and-set (``UPDATE … WHERE id = :id AND status = :from``) and writes
the audit event in the same transaction. When the row is no longer in the expected status,
someone else got there first: ``StaleStatus`` tells the caller what the status is now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from core import metrics
from core.domain.errors import StaleStatus
from core.domain.lifecycle import ACTION, IllegalTransition, Status, allowed
from core.storage import audit
from core.storage.models import AccessRequest


async def transition(
    session: AsyncSession,
    request: AccessRequest,
    target: Status,
    *,
    at: datetime,
    actor: str,
    platform: str | None = None,
    changes: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Move ``request`` to ``target`` if it is still in its current status; audit the move.

    ``changes`` are further column values written by the same UPDATE. The in-memory ``request``
    is updated to match.
    """
    source = Status(request.status)
    if not allowed(source, target):
        raise IllegalTransition(f"{source} -> {target} is not a lifecycle transition")
    values = {"status": target, **(changes or {})}
    result = await session.execute(
        sa.update(AccessRequest)
        .where(AccessRequest.id == request.id, col(AccessRequest.status) == source)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = (
            await session.execute(
                sa.select(col(AccessRequest.status)).where(col(AccessRequest.id) == request.id)
            )
        ).scalar_one_or_none()
        raise StaleStatus(request.id, expected=source, current=current)
    for key, value in values.items():
        set_committed_value(request, key, value)
    metrics.request_reached(session, target)
    await audit.record(
        session,
        at=at,
        actor=actor,
        action=ACTION[target],
        request_id=request.id,
        from_status=source,
        to_status=target,
        platform=platform,
        detail=detail,
    )
