"""User-specific approval cards: ``refresh.userIds`` names only the approvers, the refresh
answer shows buttons only to whoever may still decide, and clicks from anybody else (the
requester, a non-approver, a late approver) change nothing and say why."""

from __future__ import annotations

import copy

import pytest

from core.domain.errors import NotAParty
from core.domain.lifecycle import Status
from core.storage.models import AccessRequest
from tests.fakes.teams import FakeMember
from tests.support.domain import BASE_CONFIG
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    TeamsHarness,
    card_inputs,
    card_text,
    card_verbs,
    submit_request,
)

NOT_A_PARTY = str(NotAParty())


async def pending_request(teams: TeamsHarness) -> str:
    for member in (ALICE, BOB, CAROL, DAVE):
        assert await teams.install(member) == 201
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()
    return request_id


async def status_of(teams: TeamsHarness, request_id: str) -> Status:
    async with teams.ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    assert request is not None
    return Status(request.status)


async def test_refresh_user_ids_list_only_the_approvers(teams: TeamsHarness) -> None:
    request_id = await pending_request(teams)
    card = teams.current(teams.latest(BOB, "Access request"))
    refresh = card["refresh"]
    assert refresh["action"] == {
        "type": "Action.Execute",
        "title": "Refresh",
        "verb": "approval.refresh",
        "data": {"request": request_id},
    }
    ids = set(refresh["userIds"])
    assert {BOB.aad_object_id, CAROL.aad_object_id} <= ids
    assert ALICE.aad_object_id not in ids and ALICE.id not in ids
    assert DAVE.aad_object_id not in ids and DAVE.id not in ids


async def test_refresh_shows_buttons_only_to_who_may_still_decide(teams: TeamsHarness) -> None:
    request_id = await pending_request(teams)
    data = {"request": request_id}

    for approver in (BOB, CAROL):
        view = await teams.click(approver, "approval.refresh", data)
        assert card_verbs(view) == ["approval.approve", "approval.deny"]
        assert "reason" in card_inputs(view)
    own = await teams.click(ALICE, "approval.refresh", data)
    assert card_verbs(own) == []
    assert "This is your own request: you cannot decide on it." in card_text(own)
    stranger = await teams.click_for_message(DAVE, "approval.refresh", data)
    assert stranger == NOT_A_PARTY  # no card: nothing of the request

    await teams.click(BOB, "approval.approve", data)
    late = await teams.click(CAROL, "approval.refresh", data)
    assert card_verbs(late) == []
    assert "Approved by Bob Ray" in card_text(late)
    assert "refresh" not in late


@pytest.mark.parametrize(
    ("member", "said"),
    [
        (ALICE, "You cannot decide on your own request"),
        (DAVE, NOT_A_PARTY),
    ],
    ids=["requester", "non-approver"],
)
async def test_clicks_of_others_are_refused_and_change_nothing(
    teams: TeamsHarness, member: FakeMember, said: str
) -> None:
    request_id = await pending_request(teams)
    sent_before = len(teams.connector.activities)
    for verb in ("approval.approve", "approval.deny"):
        data = {"request": request_id, "reason": "sure"}
        if member is DAVE:  # no party of the request: a message, no card of it
            assert await teams.click_for_message(member, verb, data) == said
            continue
        card = await teams.click(member, verb, data)
        assert said in card_text(card)
        assert card_verbs(card) == []
    assert await status_of(teams, request_id) is Status.PENDING
    await teams.run_jobs()
    assert len(teams.connector.activities) == sent_before
    assert teams.connector.updates == []


async def test_the_first_decision_wins_and_the_late_approver_is_told_who(
    teams: TeamsHarness,
) -> None:
    request_id = await pending_request(teams)
    await teams.click(CAROL, "approval.deny", {"request": request_id, "reason": "no"})
    late = await teams.click(BOB, "approval.approve", {"request": request_id})
    assert f"Request {request_id} was already denied by Carol Lin." in card_text(late)
    assert card_verbs(late) == []
    assert await status_of(teams, request_id) is Status.DENIED


async def test_unknown_request_and_unknown_verb_answer_with_a_message(
    teams: TeamsHarness,
) -> None:
    await pending_request(teams)
    said = await teams.click_for_message(BOB, "approval.approve", {"request": "RNOSUCH234"})
    assert said == NOT_A_PARTY  # the same as for someone else's request
    said = await teams.click_for_message(BOB, "approval.approve", {})
    assert said == "This card does not say which request it is about."
    said = await teams.click_for_message(BOB, "launch.rockets", {"request": "x"})
    assert "does not know this button" in said


def _two_approvals_and_reasons() -> dict[str, object]:
    flows = copy.deepcopy(BASE_CONFIG["access_flows"])
    flows[0].update(approvals_required=2, require_approval_reason=True)
    return {"access_flows": flows}


@pytest.mark.parametrize("flow_changes", [_two_approvals_and_reasons()], ids=["2-approvals"])
async def test_approval_reason_required_and_two_approvals(teams: TeamsHarness) -> None:
    request_id = await pending_request(teams)
    card = teams.current(teams.latest(BOB, "Access request"))
    assert card_inputs(card)["reason"]["label"] == "Reason (required)"

    no_reason = await teams.click(BOB, "approval.approve", {"request": request_id})
    assert "This access flow requires a reason with every approval." in card_text(no_reason)
    assert card_verbs(no_reason) == ["approval.approve", "approval.deny"]

    first = await teams.click(BOB, "approval.approve", {"request": request_id, "reason": "ok"})
    assert "You have decided; waiting for the other approvals." in card_text(first)
    assert "1 of 2 approvals (Bob Ray)" in card_text(first)
    assert await status_of(teams, request_id) is Status.PENDING
    await teams.run_jobs()
    carol = teams.current(teams.latest(CAROL, "Access request"))
    assert "1 of 2 approvals (Bob Ray)" in card_text(carol)
    assert card_verbs(carol) == ["approval.approve", "approval.deny"]

    second = await teams.click(CAROL, "approval.approve", {"request": request_id, "reason": "ok"})
    assert "Approved by Carol Lin" in card_text(second)
    assert await status_of(teams, request_id) is Status.APPROVED


async def test_reminders_are_marked_and_reach_only_who_has_not_decided(
    teams: TeamsHarness,
) -> None:
    request_id = await pending_request(teams)
    await teams.click(CAROL, "approval.refresh", {"request": request_id})
    teams.clock.advance(minutes=31)
    await teams.run_jobs()
    for approver in (BOB, CAROL):
        reminder = teams.current(teams.latest(approver, "Reminder: access request"))
        assert request_id in card_text(reminder)
        assert card_verbs(reminder) == ["approval.approve", "approval.deny"]
    await teams.click(BOB, "approval.approve", {"request": request_id})
    await teams.run_jobs()
    for approver in (BOB, CAROL):  # the reminders are updated like the first cards
        reminder = teams.current(teams.latest(approver, "Reminder: access request"))
        assert "Approved by Bob Ray" in card_text(reminder)
        assert "Reminder" not in card_text(reminder)
        # Both own prod-atlas: their copies of the grant, now active, carry "Revoke now".
        assert card_verbs(reminder) == ["access.revoke"]
