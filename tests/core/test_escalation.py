"""Escalation to the integration owners, for every flow that needs an approval: at the last
reminder, or at half the pending timeout when the flow has no reminders; durable; said in the
owner's message; never a second ask to an owner already asked."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from core.config.schema import parse_config
from core.domain.directory import ConfigDirectory
from core.domain.lifecycle import Status
from core.domain.messages import ApprovalRequested
from core.domain.routing import TaggedResource, route
from core.use_cases import approvals, reads, requests
from core.use_cases.eligibility import Draft
from tests.support.domain import BASE_CONFIG, Domain, make_domain

SALES = Draft("prod-atlas", "database", "sales", "read", timedelta(hours=1), "numbers")
OWNERS = ("bob@example.com", "carol@example.com")  # the dba group owns prod-atlas


def flow_config(**flow: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    config["access_flows"][0].update(flow)
    return config


@pytest.fixture
async def named(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    """Erin, named by the flow, approves; reminders at 30 minutes and 2 hours."""
    config = flow_config(approvers=[{"attribute": "email", "value": "erin@example.com"}])
    built = await make_domain(database_url, encryption_key, config)
    yield built
    await built.ctx.store.close()


@pytest.fixture
async def no_reminders(database_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    """Resource owners approve (Dave owns database sales); no reminders, a 24-hour timeout."""
    built = await make_domain(database_url, encryption_key, flow_config(reminders=[]))
    yield built
    await built.ctx.store.close()


async def submit(domain: Domain) -> str:
    view = await requests.submit(
        domain.ctx, requester="alice@example.com", draft=SALES, platform="slack"
    )
    await domain.run_jobs()
    return view.id


def asks(domain: Domain, person: str) -> list[ApprovalRequested]:
    return domain.chat.to(person, ApprovalRequested)


async def test_a_named_approver_flow_escalates_at_its_last_reminder(named: Domain) -> None:
    request_id = await submit(named)
    assert len(asks(named, "erin@example.com")) == 1
    named.clock.advance(minutes=30)
    await named.run_jobs()
    assert not any(asks(named, owner) for owner in OWNERS)  # the first reminder only reminds
    named.clock.advance(minutes=90)
    await named.run_jobs()
    for owner in OWNERS:
        [escalated] = asks(named, owner)
        assert escalated.approver.escalation
        assert escalated.approver.reason == (
            "integration owner of prod-atlas (escalated: nobody decided in 2 hours)"
        )
        seen = await reads.request_for(named.ctx, request_id, viewer=owner)
        assert seen.approver(owner) is not None
    assert len(asks(named, "erin@example.com")) == 3  # first ask and two reminders
    result = await approvals.decide(
        named.ctx,
        approver="carol@example.com",
        request_id=request_id,
        outcome="approve",
        reason=None,
        platform="teams",
    )
    assert result.request.status is Status.APPROVED


async def test_a_flow_without_reminders_escalates_at_half_its_timeout(
    no_reminders: Domain,
) -> None:
    domain = no_reminders
    request_id = await submit(domain)
    assert len(asks(domain, "dave@example.com")) == 1
    domain.clock.advance(hours=11, minutes=59)
    await domain.run_jobs()
    assert not any(asks(domain, owner) for owner in OWNERS)
    domain.clock.advance(minutes=1)
    await domain.run_jobs()
    for owner in OWNERS:
        [escalated] = asks(domain, owner)
        assert escalated.approver.escalation
        assert "escalated: nobody decided in 12 hours" in escalated.approver.reason
    assert len(asks(domain, "dave@example.com")) == 1  # the escalation asks only the owners
    result = await approvals.decide(
        domain.ctx,
        approver="bob@example.com",
        request_id=request_id,
        outcome="deny",
        reason="not this week",
        platform="slack",
    )
    assert result.request.status is Status.DENIED


async def test_owners_who_already_approve_are_not_asked_twice(
    database_url: str, encryption_key: str
) -> None:
    config = flow_config(approvers=[{"attribute": "group", "value": "dba"}], reminders=[])
    domain = await make_domain(database_url, encryption_key, config)
    try:
        await submit(domain)
        domain.clock.advance(hours=12)
        await domain.run_jobs()
        for owner in OWNERS:
            assert len(asks(domain, owner)) == 1
    finally:
        await domain.ctx.store.close()


async def test_an_escalation_survives_a_restart(sqlite_url: str, encryption_key: str) -> None:
    config = flow_config(reminders=[])
    before = await make_domain(sqlite_url, encryption_key, config)
    request_id = await submit(before)
    await before.ctx.store.close()

    after = await make_domain(sqlite_url, encryption_key, config)  # a new process, same data
    try:
        after.clock.advance(hours=12)
        await after.run_jobs()
        for owner in OWNERS:
            [escalated] = asks(after, owner)
            assert escalated.request.id == request_id and escalated.approver.escalation
    finally:
        await after.ctx.store.close()


def test_every_routing_names_the_owners_it_would_escalate_to() -> None:
    """What ``gatepass approvers-for`` shows: the owners not asked already, for any flow."""
    config = parse_config(
        flow_config(approvers=[{"attribute": "email", "value": "bob@example.com"}])
    )
    routing = route(
        requester="alice@example.com",
        flow=config.access_flows[0],
        integration=config.integrations[0],
        chain=[TaggedResource("database", "sales", {})],
        directory=ConfigDirectory(config.directory),
    )
    assert [a.email for a in routing.approvers] == ["bob@example.com"]
    assert [a.email for a in routing.escalation] == ["carol@example.com"]
