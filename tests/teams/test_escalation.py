"""A request whose approvers are reachable on no platform goes to the integration owners, and
the audit log says so — end to end, with Teams the only platform."""

from __future__ import annotations

import sqlalchemy as sa

from core.domain.lifecycle import Status
from core.storage.models import AuditEvent
from core.storage.request_views import load_view
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    TeamsHarness,
    card_text,
    card_verbs,
    submit_request,
)


async def test_unreachable_approvers_escalate_to_the_integration_owners(
    teams: TeamsHarness,
) -> None:
    for member in (ALICE, BOB, CAROL):  # Dave, the owner of database sales, never installed
        assert await teams.install(member) == 201
    request_id = await submit_request(teams, ALICE, resource="database:sales")
    await teams.run_jobs()

    async with teams.ctx.store.reading() as session:
        events = list(
            (
                await session.execute(
                    sa.select(AuditEvent).where(
                        AuditEvent.request_id == request_id,
                        AuditEvent.action == "request.escalated",
                    )
                )
            ).scalars()
        )
    [event] = events
    assert event.detail["why"] == "no approver is reachable on any platform"
    assert sorted(event.detail["to"]) == ["bob@example.com", "carol@example.com"]

    for owner in (BOB, CAROL):
        card = teams.current(teams.latest(owner, "Escalated to you"))
        text = card_text(card)
        assert "integration owner of prod-atlas (the approvers cannot be reached)" in text
        assert card_verbs(card) == ["approval.approve", "approval.deny"]
        assert owner.aad_object_id in card["refresh"]["userIds"]
    receipt = card_text(teams.current(teams.latest(ALICE, "Your request is in")))
    assert "Dave Kim" in receipt

    approved = await teams.click(BOB, "approval.approve", {"request": request_id})
    assert "Approved by Bob Ray" in card_text(approved)
    await teams.run_jobs()
    async with teams.ctx.store.reading() as session:
        view = await load_view(session, teams.ctx.directory, request_id)
    assert view.status is Status.ACTIVE
    assert "Approved by Bob Ray" in card_text(teams.current(teams.latest(CAROL, "Escalated")))
