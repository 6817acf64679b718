"""One request, two platforms: asked in Slack and approved in Teams, and the reverse. The first
decision on either platform wins, every copy on both platforms shows it, and the requester is
told on the platform where they asked."""

from __future__ import annotations

from bot.slack import ids
from core.domain.lifecycle import Status
from tests.cross_platform.conftest import BothPlatforms
from tests.slack.harness import buttons, shown
from tests.teams.harness import ALICE, BOB, CAROL, card_text, card_verbs, submit_request

SLACK_ALICE, SLACK_BOB, SLACK_CAROL = "U0ALICE", "U0BOB", "U0CAROL"
REVOKE = "access.revoke"  # "Revoke now" on an integration owner's copy of an active grant


async def ask_in_slack(both: BothPlatforms) -> str:
    harness = both.slack
    view_id = await harness.open_request_modal(SLACK_ALICE)
    await harness.choose(SLACK_ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    await harness.choose(SLACK_ALICE, view_id, ids.PERMISSION_SELECT, "read")
    await harness.choose(SLACK_ALICE, view_id, ids.DURATION_SELECT, "1h")
    before = set(await harness.request_ids())
    reply = await harness.submit(
        SLACK_ALICE, view_id, {ids.JUSTIFICATION_INPUT: "quarterly report"}
    )
    assert reply.status == 200 and reply.json() is None, reply.body
    (request_id,) = set(await harness.request_ids()) - before
    return request_id


async def install_everyone_in_teams(both: BothPlatforms) -> None:
    for member in (ALICE, BOB, CAROL):
        assert await both.teams.install(member) == 201


async def test_asked_in_slack_approved_in_teams(both: BothPlatforms) -> None:
    await install_everyone_in_teams(both)
    slack, teams = both.slack, both.teams
    request_id = await ask_in_slack(both)
    await both.run_jobs()

    # The approvers are asked on both platforms.
    for slack_user, member in ((SLACK_BOB, BOB), (SLACK_CAROL, CAROL)):
        assert buttons(slack.dm_with(slack_user, "quarterly report")) == {
            ids.APPROVE: request_id,
            ids.DENY: request_id,
        }
        card = teams.current(teams.latest(member, "Access request"))
        assert request_id in card_text(card)
        assert card_verbs(card) == ["approval.approve", "approval.deny"]
    teams_cards_for_alice = len(teams.cards_to(ALICE))

    approved = await teams.click(BOB, "approval.approve", {"request": request_id})
    assert "Approved by Bob Ray" in card_text(approved)
    await both.run_jobs()
    assert await slack.status(request_id) is Status.ACTIVE

    # Every Slack copy shows the decision made in Teams, without its buttons (Bob and Carol
    # own prod-atlas: their copies of the active grant carry only "Revoke now").
    for slack_user in (SLACK_BOB, SLACK_CAROL):
        final = slack.dm_with(slack_user, "quarterly report")
        assert "Approved by Bob Ray in Teams at 2026-11-23 10:00 UTC" in shown(final)
        assert buttons(final) == {ids.REVOKE_NOW: request_id}
    # And every Teams copy too.
    carol = teams.current(teams.latest(CAROL, "Access request"))
    assert "Approved by Bob Ray" in card_text(carol) and card_verbs(carol) == [REVOKE]

    # The requester is told in Slack, where she asked; nothing new for her in Teams.
    assert "Approved by Bob Ray in Teams" in shown(slack.dm_with(SLACK_ALICE, "approved"))
    assert buttons(slack.dm_with(SLACK_ALICE, "Your access is ready")) == {
        ids.REVEAL_PASSWORD: request_id,
        ids.DONE: request_id,
    }
    assert len(teams.cards_to(ALICE)) == teams_cards_for_alice

    # Too late on the other platform: the first decision won.
    carol_copy = slack.dm_with(SLACK_CAROL, "quarterly report")
    assert (
        await slack.click(SLACK_CAROL, ids.APPROVE, request_id, message=carol_copy)
    ).status == 200
    assert await slack.count("decisions") == 1
    assert await slack.status(request_id) is Status.ACTIVE


async def test_asked_in_teams_approved_in_slack(both: BothPlatforms) -> None:
    await install_everyone_in_teams(both)
    slack, teams = both.slack, both.teams
    request_id = await submit_request(teams, ALICE)
    await both.run_jobs()

    bob_teams = teams.latest(BOB, "Access request")
    carol_teams = teams.latest(CAROL, "Access request")
    bob_slack = slack.dm_with(SLACK_BOB, "quarterly report")
    slack_dms_for_alice = len(slack.dm(SLACK_ALICE))

    assert (await slack.click(SLACK_BOB, ids.APPROVE, request_id, message=bob_slack)).status == 200
    await both.run_jobs()
    assert await slack.status(request_id) is Status.ACTIVE

    # The Teams copies are updated in place to the same final state.
    for posted in (bob_teams, carol_teams):
        card = teams.current(posted)
        assert "Approved by Bob Ray in Slack at 2026-11-23 10:00 UTC" in card_text(card)
        assert card_verbs(card) == [REVOKE]  # they own prod-atlas
        assert "refresh" not in card
    carol_slack = shown(slack.dm_with(SLACK_CAROL, "quarterly report"))
    assert "Approved by Bob Ray at 2026-11-23 10:00 UTC" in carol_slack  # decided right here

    # The requester is told in Teams, where she asked; nothing new for her in Slack.
    receipt = teams.current(teams.latest(ALICE, "Your request is in"))
    assert "Approved by Bob Ray in Slack" in card_text(receipt)
    ready = teams.current(teams.latest(ALICE, "Your access is ready"))
    assert card_verbs(ready) == ["password.reveal", "access.done"]
    assert len(slack.dm(SLACK_ALICE)) == slack_dms_for_alice

    # Carol's Teams click comes too late and changes nothing.
    late = await teams.click(CAROL, "approval.approve", {"request": request_id})
    assert f"Request {request_id} was already" in card_text(late)
    assert card_verbs(late) == [REVOKE]
    assert await slack.count("decisions") == 1
