"""Discovered resources: stored with their tags, looked up for requests and routing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.domain.ports import DiscoveredResource
from core.domain.routing import TaggedResource
from core.storage.models import Resource

MAX_CHAIN = 5


async def replace_discovered(
    session: AsyncSession, integration: str, found: Sequence[DiscoveredResource], *, at: datetime
) -> tuple[int, int]:
    """Store what a sync found; forget what it no longer finds. Returns (stored, removed)."""
    existing = {
        (r.type, r.name): r
        for r in (
            await session.execute(select(Resource).where(Resource.integration == integration))
        ).scalars()
    }
    seen: set[tuple[str, str]] = set()
    for item in found:
        key = (item.type, item.name)
        seen.add(key)
        row = existing.get(key) or Resource(integration=integration, type=item.type, name=item.name)
        row.external_id = item.external_id
        row.parent = item.parent
        row.tags = dict(item.tags)
        row.details = dict(item.details)
        row.discovered_at = at
        session.add(row)
    gone = [row for key, row in existing.items() if key not in seen]
    for row in gone:
        await session.delete(row)
    await session.flush()
    return len(seen), len(gone)


async def get(session: AsyncSession, integration: str, type_: str, name: str) -> Resource | None:
    return await session.get(Resource, (integration, type_, name))


async def chain(session: AsyncSession, resource: Resource) -> list[TaggedResource]:
    """The resource and its parents, nearest first (database → cluster → project)."""
    links = [TaggedResource(resource.type, resource.name, dict(resource.tags))]
    parent = resource.parent
    while parent and len(links) < MAX_CHAIN:
        type_, _, name = parent.partition(":")
        row = await get(session, resource.integration, type_, name)
        if row is None:
            break
        links.append(TaggedResource(row.type, row.name, dict(row.tags)))
        parent = row.parent
    return links


async def search(
    session: AsyncSession,
    integration: str,
    *,
    types: Sequence[str],
    text: str = "",
    limit: int = 100,
) -> list[Resource]:
    query = select(Resource).where(Resource.integration == integration, Resource.type.in_(types))  # type: ignore[attr-defined]
    if text:
        query = query.where(sa.func.lower(Resource.name).contains(text.lower()))
    query = query.order_by(Resource.type, Resource.name).limit(limit)
    return list((await session.execute(query)).scalars())


async def list_all(session: AsyncSession, integration: str | None = None) -> list[Resource]:
    query = select(Resource).order_by(Resource.integration, Resource.type, Resource.name)
    if integration:
        query = query.where(Resource.integration == integration)
    return list((await session.execute(query)).scalars())
