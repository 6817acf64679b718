"""A request from Teams under ``approvers: manager`` goes to the requester's manager, who
approves it on the card."""

from __future__ import annotations

import pytest

from core.domain.lifecycle import Status
from core.storage.models import AccessRequest
from tests.support.managers import manager_changes
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    TeamsHarness,
    card_text,
    card_verbs,
    submit_request,
)


@pytest.fixture
def flow_changes() -> dict[str, object]:
    return manager_changes()


async def test_the_manager_is_asked_and_approves(teams: TeamsHarness) -> None:
    for member in (ALICE, BOB, CAROL, DAVE):
        assert await teams.install(member) == 201
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()
    ask = teams.current(teams.latest(DAVE, "Access request"))
    assert "manager of Alice Doe" in card_text(ask)
    assert DAVE.aad_object_id in ask["refresh"]["userIds"]
    assert not teams.cards_to(BOB) or all(
        request_id not in card_text(card) for card in teams.cards_to(BOB)
    )
    data = {"request": request_id}
    view = await teams.click(DAVE, "approval.refresh", data)
    assert card_verbs(view) == ["approval.approve", "approval.deny"]
    await teams.click(DAVE, "approval.approve", data)
    await teams.run_jobs()
    async with teams.ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    assert request is not None and Status(request.status) is Status.ACTIVE
    assert "Approved by Dave Kim" in card_text(teams.current(teams.latest(DAVE, "Access request")))
