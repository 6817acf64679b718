"""The one door to a request: its parties see it, everyone else gets the same refusal whether
it exists or not; the lists hold only the viewer's own; nothing a read does changes anything."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.domain.errors import (
    NotAParty,
    NotInDirectory,
    NotTheRequester,
    RequestNotFound,
)
from core.domain.lifecycle import Status
from core.use_cases import approvals, reads, requests
from core.use_cases.eligibility import Draft
from tests.core.test_use_cases import snapshot
from tests.support.domain import Domain

ANALYTICS = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")
SALES = Draft("prod-atlas", "database", "sales", "read", timedelta(hours=1), "numbers")
ALICE, BOB, CAROL, DAVE, ERIN = (
    f"{name}@example.com" for name in ("alice", "bob", "carol", "dave", "erin")
)


async def submitted(domain: Domain, draft: Draft = ANALYTICS) -> str:
    view = await requests.submit(domain.ctx, requester=ALICE, draft=draft, platform="slack")
    return view.id


async def active(domain: Domain) -> str:
    request_id = await submitted(domain)
    await approvals.decide(
        domain.ctx,
        approver=BOB,
        request_id=request_id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    await domain.run_jobs()
    return request_id


@pytest.mark.parametrize(
    ("viewer", "draft"),
    [
        (ALICE, ANALYTICS),  # the requester
        ("  Alice@Example.COM ", ANALYTICS),  # however the edge spelled the email
        (BOB, ANALYTICS),  # an approver (resource owner) and an integration owner
        (DAVE, SALES),  # an approver only: owner of database sales, no integration owner
        (CAROL, SALES),  # an integration owner only (not asked to approve sales)
    ],
    ids=["requester", "spelling", "approver-and-owner", "approver", "integration-owner"],
)
async def test_parties_see_the_request(domain: Domain, viewer: str, draft: Draft) -> None:
    request_id = await submitted(domain, draft)
    view = await reads.request_for(domain.ctx, request_id, viewer=viewer)
    assert view.id == request_id and view.requester == ALICE


async def test_an_escalated_owner_is_a_party(domain: Domain) -> None:
    request_id = await submitted(domain, SALES)
    domain.clock.advance(hours=3)
    await domain.run_jobs()  # both reminders: the last one escalates to the integration owners
    view = await reads.request_for(domain.ctx, request_id, viewer=BOB)
    bob = view.approver(BOB)
    assert bob is not None and bob.escalation


@pytest.mark.parametrize(
    "request_id",
    ["someone-elses", "RZZZZZZZZZ", "", "<!channel> ' OR 1=1 --", "R" * 5000],
    ids=["someone-elses", "unknown", "empty", "injection", "huge"],
)
@pytest.mark.parametrize("viewer", [DAVE, ERIN], ids=["dave", "erin"])
async def test_a_non_party_gets_one_refusal_that_says_nothing(
    domain: Domain, viewer: str, request_id: str
) -> None:
    real = await active(domain)
    asked = real if request_id == "someone-elses" else request_id
    before = await snapshot(domain)
    with pytest.raises(NotAParty) as refused:
        await reads.request_for(domain.ctx, asked, viewer=viewer)
    said = str(refused.value)
    assert said == str(NotAParty())  # the same words for an unknown id and someone else's
    for detail in (real, "analytics", "Alice", "alice", "report", "gp-", "mongodb"):
        assert detail not in said
    assert await snapshot(domain) == before


async def test_someone_not_in_the_directory_is_refused(domain: Domain) -> None:
    request_id = await submitted(domain)
    with pytest.raises(NotInDirectory):
        await reads.request_for(domain.ctx, request_id, viewer="mallory@example.com")
    with pytest.raises(NotInDirectory):
        await reads.my_requests(domain.ctx, viewer="mallory@example.com")


async def test_an_admin_sees_every_request_and_is_told_of_unknown_ones(domain: Domain) -> None:
    request_id = await submitted(domain)
    view = await reads.request_for(domain.ctx, request_id, viewer="admin (cli)", as_admin=True)
    assert view.id == request_id
    with pytest.raises(RequestNotFound):
        await reads.request_for(domain.ctx, "RNOPE", viewer="admin (cli)", as_admin=True)
    assert [v.id for v in await reads.requests_for_admin(domain.ctx)] == [request_id]
    assert await reads.requests_for_admin(domain.ctx, status="active") == []


async def test_lists_hold_only_the_viewers_own(domain: Domain) -> None:
    granted = await active(domain)
    pending = await submitted(domain)
    assert {v.id for v in await reads.my_requests(domain.ctx, viewer=ALICE)} == {granted, pending}
    assert [v.id for v in await reads.my_active_access(domain.ctx, viewer=ALICE)] == [granted]
    assert [v.id for v in await reads.pending_for(domain.ctx, viewer=CAROL)] == [pending]
    for outsider in (DAVE, ERIN):
        assert await reads.my_requests(domain.ctx, viewer=outsider) == []
        assert await reads.my_active_access(domain.ctx, viewer=outsider) == []
        assert await reads.pending_for(domain.ctx, viewer=outsider) == []
    home = await reads.home_summary(domain.ctx, viewer=BOB, shown=5)
    assert home.active == [] and home.recent == [] and [v.id for v in home.pending] == [pending]
    alice = await reads.home_summary(domain.ctx, viewer=ALICE, shown=1)
    assert [v.id for v in alice.active] == [granted] and len(alice.recent) == 1


async def test_extension_choices_and_request_again_are_the_requesters(domain: Domain) -> None:
    request_id = await active(domain)
    offered = await reads.extension_choices(domain.ctx, request_id, viewer=ALICE)
    assert offered.request.status is Status.ACTIVE
    assert offered.durations == tuple(timedelta(minutes=m) for m in (15, 60, 240, 480))
    assert reads.extension_durations(domain.ctx, offered.request) == list(offered.durations)
    draft = await reads.draft_again(domain.ctx, request_id, viewer=ALICE)
    assert (draft.resource_name, draft.justification) == ("analytics", "report")
    for party in (BOB, CAROL):  # parties, but not the requester
        with pytest.raises(NotTheRequester):
            await reads.extension_choices(domain.ctx, request_id, viewer=party)
        with pytest.raises(NotTheRequester):
            await reads.own_request(domain.ctx, request_id, viewer=party)
        with pytest.raises(NotTheRequester):
            await reads.draft_again(domain.ctx, request_id, viewer=party)
    for call in (reads.extension_choices, reads.draft_again):
        with pytest.raises(NotAParty):
            await call(domain.ctx, request_id, viewer=DAVE)


async def test_whether_an_approval_needs_a_reason(domain: Domain) -> None:
    view = await reads.request_for(domain.ctx, await submitted(domain), viewer=ALICE)
    assert reads.approval_reason_required(domain.ctx, view) is False
    config = domain.ctx.config
    strict = config.access_flows[0].model_copy(update={"require_approval_reason": True})
    ctx = replace(domain.ctx, config=config.model_copy(update={"access_flows": (strict,)}))
    assert reads.approval_reason_required(ctx, view) is True
    assert reads.approval_reason_required(ctx, replace(view, flow="removed-since")) is False
