"""The database's record of Atlas UI memberships (``core.domain.memberships``), one row per
integration, person and scope, each write in its own transaction so that it is durable before
the Atlas call it precedes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col, select

from core.domain.memberships import Membership
from core.storage.membership_models import AtlasMembership
from core.storage.store import Store


class StoredMemberships:
    """Implements ``core.domain.memberships.MembershipLedger`` on the Gatepass database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(self, integration: str, membership: Membership) -> None:
        async with self._store.transaction() as session:
            key = (integration, membership.person, membership.scope)
            row = await session.get(AtlasMembership, key)
            if row is None:
                row = AtlasMembership(
                    integration=integration, person=membership.person, scope=membership.scope
                )
                session.add(row)
            row.created, row.user_id = membership.created, membership.user_id
            row.pending, row.recorded_at = membership.pending, membership.recorded_at

    async def forget(self, integration: str, person: str, scope: str | None = None) -> None:
        query = sa.delete(AtlasMembership).where(
            col(AtlasMembership.integration) == integration, col(AtlasMembership.person) == person
        )
        if scope is not None:
            query = query.where(col(AtlasMembership.scope) == scope)
        async with self._store.transaction() as session:
            await session.execute(query)

    async def memberships(self, integration: str, person: str | None = None) -> list[Membership]:
        query = select(AtlasMembership).where(col(AtlasMembership.integration) == integration)
        if person is not None:
            query = query.where(col(AtlasMembership.person) == person)
        query = query.order_by(col(AtlasMembership.person), col(AtlasMembership.scope))
        async with self._store.reading() as session:
            rows = (await session.execute(query)).scalars().all()
        return [
            Membership(
                person=row.person,
                scope=row.scope,
                created=row.created,
                recorded_at=row.recorded_at,
                user_id=row.user_id,
                pending=row.pending,
            )
            for row in rows
        ]
