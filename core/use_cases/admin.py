"""The administrator's use cases behind the CLI: who would approve a draft, discovering an
integration's resources now, the stored resources, and the audit log's export and check.

Only the CLI calls these; it has no viewer to check, because whoever runs it holds the config
file and the database already.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from core.config.schema import AccessFlow
from core.context import Context
from core.domain.errors import NotDiscovered, UnknownResource
from core.domain.request_form import Draft
from core.domain.routing import Routing
from core.storage import audit, resources
from core.storage.audit import VerifyResult
from core.storage.models import Resource
from core.use_cases import requests


@dataclass(frozen=True)
class Synced:
    integration: str
    stored: int
    removed: int


async def who_would_approve(
    ctx: Context, *, requester: str, draft: Draft
) -> tuple[AccessFlow, Routing]:
    """The flow a draft would match and its approvers, with the checks ``submit`` makes;
    NotDiscovered, saying to sync first, when the resource is not (yet) known."""
    person = ctx.person(requester)
    async with ctx.store.reading() as session:
        try:
            return await requests.preview(ctx, session, person, draft)
        except UnknownResource:
            synced = bool(await resources.list_all(session, draft.integration))
            key = f"{draft.resource_type} {draft.resource_name}"
            raise NotDiscovered(key, draft.integration, synced=synced) from None


async def sync_integration(ctx: Context, name: str) -> Synced:
    """Discover the integration's resources now and store them with their tags.

    ``UnknownIntegration`` when it is not running; the integration's ``IntegrationError`` when
    discovery fails (nothing is stored then).
    """
    found = await ctx.integration(name).discover()
    async with ctx.store.transaction() as session:
        stored, removed = await resources.replace_discovered(
            session, name, found, at=ctx.clock.now()
        )
    return Synced(name, stored, removed)


async def stored_resources(ctx: Context, integration: str | None = None) -> list[Resource]:
    async with ctx.store.reading() as session:
        return list(await resources.list_all(session, integration))


async def export_audit(
    ctx: Context, *, fmt: str, since: datetime | None = None
) -> AsyncIterator[str]:
    """The audit log as JSON lines or CSV, in chain order, read in one consistent look (every
    committed event chained first)."""
    await audit.chain_all(ctx.store)
    async with ctx.store.reading() as session:
        async for chunk in audit.export(session, fmt=fmt, since=since):
            yield chunk


async def verify_audit(ctx: Context) -> VerifyResult:
    """Recompute the audit log's hash chain (every committed event chained first)."""
    await audit.chain_all(ctx.store)
    async with ctx.store.reading() as session:
        return await audit.verify(session)
