"""The narrowing both chat forms show: stale choices dropped, single options chosen, approvers
previewed with the same checks submit makes."""

from __future__ import annotations

from datetime import timedelta

from core.use_cases import request_form
from tests.support.domain import Domain


async def test_a_fresh_form_chooses_the_only_integration(domain: Domain) -> None:
    alice = domain.ctx.person("alice@example.com")
    form = await request_form.narrow(
        domain.ctx, alice, integration=None, resource=None, permission=None, duration=None
    )
    assert form.integrations == ("prod-atlas",) and form.integration == "prod-atlas"
    assert form.resource is None and not form.complete


async def test_choices_narrow_down_to_the_approvers(domain: Domain) -> None:
    alice = domain.ctx.person("alice@example.com")
    form = await request_form.narrow(
        domain.ctx,
        alice,
        integration="prod-atlas",
        resource=("database", "analytics"),
        permission="read",
        duration=timedelta(hours=4),
    )
    assert form.permissions == ("read", "readWrite")
    assert form.durations == tuple(timedelta(minutes=m) for m in (15, 60, 240, 480))
    assert form.complete and form.flow is not None and form.flow.require_justification
    assert [a.email for a in form.routing.approvers] == ["bob@example.com", "carol@example.com"]


async def test_stale_or_forbidden_choices_are_dropped(domain: Domain) -> None:
    alice = domain.ctx.person("alice@example.com")
    billing = await request_form.narrow(
        domain.ctx,
        alice,
        integration="prod-atlas",
        resource=("database", "billing"),
        permission="read",
        duration=None,
    )
    assert billing.resource is None and billing.permission is None
    wrong = await request_form.narrow(
        domain.ctx,
        alice,
        integration="prod-atlas",
        resource=("database", "analytics"),
        permission="dbAdmin",
        duration=timedelta(days=9),
    )
    assert wrong.resource is not None and wrong.permission is None and wrong.duration is None
    cluster = await request_form.narrow(
        domain.ctx,
        alice,
        integration="prod-atlas",
        resource=("cluster", "Cluster0"),
        permission=None,
        duration=None,
    )
    assert cluster.permissions == ("clusterMonitor",) and cluster.permission == "clusterMonitor"


async def test_preview_uses_the_same_routing_as_submit(domain: Domain) -> None:
    dave = domain.ctx.person("dave@example.com")  # the only owner of sales: the fallback approves
    form = await request_form.narrow(
        domain.ctx,
        dave,
        integration="prod-atlas",
        resource=("database", "sales"),
        permission="read",
        duration=None,
    )
    assert form.problem is None and form.routing is not None
    assert {a.reason for a in form.routing.approvers} == {
        "integration owner of prod-atlas (the only resource owner is the requester)"
    }
