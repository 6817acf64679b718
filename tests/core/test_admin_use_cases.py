"""The CLI's use cases: discovering an integration now, the stored resources, the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.domain.errors import NotInDirectory, UnknownIntegration
from core.domain.ports import DiscoveredResource, IntegrationError
from core.use_cases import admin
from core.use_cases.eligibility import Draft
from tests.core.test_reads import submitted
from tests.support.domain import RESOURCES, Domain


async def test_sync_stores_what_discovery_found(domain: Domain) -> None:
    domain.atlas.resources = [
        *RESOURCES[:2],
        DiscoveredResource("database", "fresh", "cluster:Cluster0"),
    ]
    synced = await admin.sync_integration(domain.ctx, "prod-atlas")
    assert synced == admin.Synced("prod-atlas", stored=3, removed=len(RESOURCES) - 2)
    names = [r.name for r in await admin.stored_resources(domain.ctx, "prod-atlas")]
    assert "fresh" in names and "billing" not in names


async def test_a_failed_or_unknown_sync_stores_nothing(domain: Domain) -> None:
    before = await admin.stored_resources(domain.ctx)
    domain.atlas.failures.append(IntegrationError("unauthorized", retryable=False))
    with pytest.raises(IntegrationError):
        await admin.sync_integration(domain.ctx, "prod-atlas")
    with pytest.raises(UnknownIntegration):
        await admin.sync_integration(domain.ctx, "no-such-atlas")
    assert await admin.stored_resources(domain.ctx) == before


async def test_who_would_approve_a_draft(domain: Domain) -> None:
    draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "preview")
    flow, routing = await admin.who_would_approve(
        domain.ctx, requester="alice@example.com", draft=draft
    )
    assert flow.name == "analytics-read"
    assert [a.email for a in routing.approvers] == ["bob@example.com", "carol@example.com"]
    with pytest.raises(NotInDirectory):
        await admin.who_would_approve(domain.ctx, requester="mallory@example.com", draft=draft)


async def test_audit_export_and_verify(domain: Domain) -> None:
    request_id = await submitted(domain)
    lines = [json.loads(chunk) async for chunk in admin.export_audit(domain.ctx, fmt="jsonl")]
    assert [line["request_id"] for line in lines] == [request_id]
    result = await admin.verify_audit(domain.ctx)
    assert result.ok and result.checked == 1
