"""Break-glass end to end, from Slack and from Teams, with the grant made in the Atlas fake over
HTTP: the form warns and wants the reason; the access is granted without another person; the
Slack channel and the Teams channel (learned when the app was installed in its team) and the
owners are told who, what, why and until when; the owners'
Acknowledge / Flag work on both platforms, update every copy and stop the reminders; the daily
limit refuses the next use with nothing stored and nothing granted; the maximum holds; and a
flow without ``break_glass`` still refuses self-approval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack import ids
from bot.teams.cards import verbs
from core.domain.errors import DurationTooLong
from core.domain.lifecycle import Status
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.break_glass.config import REASON, SLACK_CHANNEL, TEAMS_CHANNEL
from tests.break_glass.harness import World
from tests.fakes.atlas import PROJECT_ID
from tests.slack.harness import buttons, shown
from tests.teams.harness import (
    BOB,
    CAROL,
    DAVE,
    card_of,
    card_text,
    card_verbs,
    form_data,
    request_id_in,
)
from tests.teams.team_channels import install_in_team

S_ALICE, S_BOB, S_DAVE = "U0ALICE", "U0BOB", "U0DAVE"
SALES = "database:sales"


async def open_break_glass_form(world: World) -> str:
    harness = world.slack
    view_id = await harness.open_request_modal(S_ALICE)
    await harness.choose(S_ALICE, view_id, ids.RESOURCE_SELECT, SALES)
    await harness.choose(S_ALICE, view_id, ids.PERMISSION_SELECT, "readWrite")
    await harness.choose(S_ALICE, view_id, ids.DURATION_SELECT, "1h")
    return view_id


async def break_glass_from_slack(world: World) -> str:
    harness = world.slack
    view_id = await open_break_glass_form(world)
    modal = shown(harness.view(view_id))
    assert "This is break-glass access: you approve it yourself" in modal
    assert "Reason for breaking the glass" in modal and "at least 20 characters" in modal
    assert "Who will approve" not in modal
    [reason] = [
        b["element"]
        for b in harness.view(view_id)["blocks"]
        if b.get("element", {}).get("action_id") == ids.JUSTIFICATION_INPUT
    ]
    assert reason["min_length"] == 20  # Slack holds it too; Gatepass checks it anyway
    before = await harness.counts()
    short = await harness.submit(S_ALICE, view_id, {ids.JUSTIFICATION_INPUT: "db is down"})
    assert "at least 20 characters" in short.json()["errors"]["justification"]
    assert await harness.counts() == before and world.atlas.calls("POST") == []
    reply = await harness.submit(S_ALICE, view_id, {ids.JUSTIFICATION_INPUT: REASON})
    assert reply.status == 200 and reply.json() is None, reply.body
    [request_id] = await harness.request_ids()
    return request_id


async def test_break_glass_from_slack_granted_announced_and_reviewed_on_teams(
    world: World,
) -> None:
    slack, teams = world.slack, world.teams
    await install_in_team(teams, TEAMS_CHANNEL, "incidents")  # how Teams channels are learned
    for member in (BOB, CAROL):
        assert await teams.install(member) == 201
    request_id = await break_glass_from_slack(world)
    await world.settle()

    view = await slack.view_of(request_id)
    assert view.status is Status.ACTIVE and view.decided_by == "alice@example.com"
    user = world.atlas.users[PROJECT_ID][view.username]
    assert user["roles"] == [{"roleName": "readWrite", "databaseName": "sales"}]
    assert "Your access is ready" in shown(slack.dm_with(S_ALICE, "Your access is ready"))

    [announced] = slack.slack.messages[SLACK_CHANNEL].values()
    said = shown(announced)
    for needle in ("Alice Doe", "used break-glass access", "readWrite", "sales", REASON, "until"):
        assert needle in said, (needle, said)
    [in_channel] = [a for a in teams.connector.activities if a.conversation_id == TEAMS_CHANNEL]
    assert REASON in card_text(card_of(in_channel.activity))

    bob_dm = slack.dm_with(S_BOB, "Please review")
    assert set(buttons(bob_dm)) == {ids.BREAK_GLASS_ACKNOWLEDGE, ids.BREAK_GLASS_FLAG}
    carol_card = teams.latest(CAROL, "Review break-glass use")
    assert card_verbs(card_of(carol_card.activity)) == [
        verbs.BREAK_GLASS_ACKNOWLEDGE,
        verbs.BREAK_GLASS_FLAG,
    ]
    assert slack.dm(S_ALICE) and all("Please review" not in shown(m) for m in slack.dm(S_ALICE))

    flagged = await teams.click(CAROL, verbs.BREAK_GLASS_FLAG, {verbs.REQUEST: request_id})
    assert "Flagged by Carol Lin" in card_text(flagged) and card_verbs(flagged) == []
    await world.settle()
    bob_dm = slack.dm_with(S_BOB, "Flagged by Carol Lin")
    assert buttons(bob_dm) == {}
    assert "Flagged by Carol Lin" in shown(next(iter(slack.slack.messages[SLACK_CHANNEL].values())))
    assert "Flagged by Carol Lin" in card_text(teams.current(in_channel))

    await slack.click(S_BOB, ids.BREAK_GLASS_ACKNOWLEDGE, request_id, message=bob_dm)
    assert any("already flagged by Carol Lin" in n for n in slack.private_notes(S_BOB))

    sent = len(teams.connector.activities), len(slack.dm(S_BOB))
    world.clock.advance(hours=5)
    await world.settle()
    assert (await slack.status(request_id)) is Status.EXPIRED
    reviews = [a for a in teams.sent_to(BOB) if "Review break-glass" in str(a.activity)]
    assert len(reviews) == 1 and len(slack.dm(S_BOB)) == sent[1]  # no reminder after a review


async def test_break_glass_from_teams_reminds_until_reviewed_on_slack(world: World) -> None:
    slack, teams = world.slack, world.teams
    for member in (DAVE, BOB, CAROL):
        assert await teams.install(member) == 201
    card = await teams.click(
        DAVE,
        verbs.FORM_REFRESH,
        form_data(resource=SALES, permission="readWrite", duration="1h", justification=""),
    )
    assert "This is break-glass access" in card_text(card)
    submitted = await teams.click(
        DAVE,
        verbs.FORM_SUBMIT,
        form_data(resource=SALES, permission="readWrite", duration="1h", justification=REASON),
    )
    assert "you approved it yourself" in card_text(submitted)
    request_id = request_id_in(submitted)
    await world.settle()
    assert (await slack.status(request_id)) is Status.ACTIVE
    assert "Dave Kim" in shown(next(iter(slack.slack.messages[SLACK_CHANNEL].values())))

    world.clock.advance(hours=1)
    await world.settle()
    assert "Reminder: nobody has reviewed" in shown(slack.dm(S_BOB)[-1])
    assert "Reminder: review break-glass use" in card_text(
        card_of(teams.sent_to(CAROL)[-1].activity)
    )
    reminder = slack.dm(S_BOB)[-1]
    await slack.click(S_BOB, ids.BREAK_GLASS_ACKNOWLEDGE, request_id, message=reminder)
    assert "Acknowledged by Bob Ray" in shown(slack.dm(S_BOB)[-1])
    count = len(slack.dm(S_BOB)), len(teams.sent_to(CAROL))
    world.clock.advance(hours=4)
    await world.settle()
    assert (len(slack.dm(S_BOB)), len(teams.sent_to(CAROL))) == count


async def test_the_limit_refuses_the_next_use_with_nothing_stored_nor_granted(
    world: World,
) -> None:
    harness = world.slack
    await break_glass_from_slack(world)
    await world.settle()
    before = await harness.counts(), len(world.atlas.calls("POST")), len(world.atlas.calls("PATCH"))
    view_id = await open_break_glass_form(world)
    reply = await harness.submit(S_ALICE, view_id, {ids.JUSTIFICATION_INPUT: REASON})
    assert "used break-glass access 1 time today" in shown(reply.json()["view"])
    await world.settle()
    after = await harness.counts(), len(world.atlas.calls("POST")), len(world.atlas.calls("PATCH"))
    assert after[1:] == before[1:]
    assert after[0]["requests"] == before[0]["requests"]
    assert after[0]["grants"] == before[0]["grants"]


async def test_the_maximum_holds_and_ordinary_flows_refuse_self_approval(world: World) -> None:
    ctx, harness = world.slack.ctx, world.slack
    too_long = Draft("prod-atlas", "database", "sales", "readWrite", timedelta(hours=4), REASON)
    with pytest.raises(DurationTooLong):
        await requests.submit(ctx, requester="alice@example.com", draft=too_long, platform="slack")
    ordinary = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")
    view = await requests.submit(
        ctx, requester="alice@example.com", draft=ordinary, platform="slack"
    )
    assert view.status is Status.PENDING
    await harness.click(S_ALICE, ids.APPROVE, view.id)
    assert any("your own request" in note for note in harness.private_notes(S_ALICE))
    assert (await harness.status(view.id)) is Status.PENDING
    assert world.atlas.calls("POST") == []


async def changes(world: World) -> tuple[dict[str, int], list[object]]:
    """What a review could change (not who is who: a first click remembers the clicker)."""
    counts = await world.slack.counts()
    del counts["chat_accounts"]
    return counts, await world.slack.rows("SELECT review FROM break_glass_uses")


async def test_a_forged_review_by_a_non_owner_is_refused_privately(world: World) -> None:
    slack, teams = world.slack, world.teams
    assert await teams.install(DAVE) == 201
    request_id = await break_glass_from_slack(world)
    await world.settle()
    before = await changes(world)
    channel_before = dict(slack.slack.messages[SLACK_CHANNEL])
    for user_id, refusal in ((S_DAVE, "not a request you made"), (S_ALICE, "your own")):
        await slack.click(user_id, ids.BREAK_GLASS_FLAG, request_id)
        assert any(refusal in note for note in slack.private_notes(user_id)), user_id
    answer = await teams.click_for_message(
        DAVE, verbs.BREAK_GLASS_ACKNOWLEDGE, {verbs.REQUEST: request_id}
    )
    assert "not a request you made" in answer and REASON not in answer
    await world.settle()
    assert await changes(world) == before
    assert before[1] == [None]
    assert slack.slack.messages[SLACK_CHANNEL] == channel_before
