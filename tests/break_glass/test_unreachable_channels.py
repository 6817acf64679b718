"""A break-glass broadcast goes where an approval ask goes, the same way: on Slack to a channel
the app is in, on Teams to a team channel Gatepass learned when the app was installed in the
team (conversationUpdate), whether or not anyone has talked to the app in a personal chat.

A channel the app cannot post to is a configuration to fix, not an outage: one log line names
the channel and what to do, the other platform's channel is still told, the owners still get
their review requests with Acknowledge / Flag, and the notice job does not fail nor retry."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from bot.slack import ids
from bot.teams.cards import verbs
from core.domain.lifecycle import Status
from core.domain.messages import ReviewRequested
from core.jobs.kinds import Kind
from core.use_cases import requests
from tests.break_glass.config import REASON, SLACK_CHANNEL, TEAMS_CHANNEL
from tests.break_glass.harness import World
from tests.break_glass.test_end_to_end import S_BOB, break_glass_from_slack
from tests.break_glass.test_use_cases import ALICE, BOB, BREAK, CAROL
from tests.fakes.teams import RecordedActivity
from tests.slack.harness import buttons, shown
from tests.support.domain import Domain
from tests.teams.harness import BOB as TEAMS_BOB
from tests.teams.harness import CAROL as TEAMS_CAROL
from tests.teams.harness import card_of, card_text, card_verbs
from tests.teams.team_channels import install_in_team

REVIEW_BUTTONS = {ids.BREAK_GLASS_ACKNOWLEDGE, ids.BREAK_GLASS_FLAG}
REVIEW_VERBS = [verbs.BREAK_GLASS_ACKNOWLEDGE, verbs.BREAK_GLASS_FLAG]


def lines_naming(caplog: pytest.LogCaptureFixture, channel: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if channel in r.getMessage()]


async def notice_errors(world: World) -> list[object]:
    """The last error of each break-glass notice job that ran (None: it did not fail)."""
    return await world.slack.rows(
        f"SELECT last_error FROM jobs WHERE kind = '{Kind.BREAK_GLASS_NOTICE}' AND attempts > 0"
    )


def teams_channel_posts(world: World) -> list[RecordedActivity]:
    return [a for a in world.teams.connector.activities if a.conversation_id == TEAMS_CHANNEL]


def assert_owners_asked_to_review(world: World) -> None:
    assert set(buttons(world.slack.dm_with(S_BOB, "Please review"))) == REVIEW_BUTTONS
    carol_card = world.teams.latest(TEAMS_CAROL, "Review break-glass use")
    assert card_verbs(card_of(carol_card.activity)) == REVIEW_VERBS


async def break_the_glass(
    world: World, caplog: pytest.LogCaptureFixture, *, unreachable: str
) -> tuple[str, str]:
    """Alice breaks the glass from Slack and the jobs run: the access is granted, the owners
    are asked, the notice job did not fail, and the one line logged about ``unreachable``."""
    caplog.set_level(logging.WARNING)
    request_id = await break_glass_from_slack(world)
    await world.settle()
    assert (await world.slack.status(request_id)) is Status.ACTIVE
    assert_owners_asked_to_review(world)
    assert await notice_errors(world) == [None]
    [line] = lines_naming(caplog, unreachable)
    return request_id, line


async def test_a_slack_channel_the_app_is_not_in_logs_one_line_and_the_owners_still_review(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    slack, teams = world.slack, world.teams
    slack.slack.channels.discard(SLACK_CHANNEL)  # the app was never invited to it
    await install_in_team(teams, TEAMS_CHANNEL, "incidents")
    assert await teams.install(TEAMS_CAROL) == 201
    request_id, line = await break_the_glass(world, caplog, unreachable=SLACK_CHANNEL)
    assert "invite the app" in line
    assert SLACK_CHANNEL not in slack.slack.messages
    [in_channel] = teams_channel_posts(world)  # the other platform's channel is still told

    bob_dm = slack.dm_with(S_BOB, "Please review")
    await slack.click(S_BOB, ids.BREAK_GLASS_ACKNOWLEDGE, request_id, message=bob_dm)
    await world.settle()
    assert "Acknowledged by Bob Ray" in card_text(teams.current(in_channel))
    assert len(lines_naming(caplog, SLACK_CHANNEL)) == 1


async def test_a_teams_channel_never_learned_logs_one_line_and_the_owners_still_review(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    slack, teams = world.slack, world.teams
    for member in (TEAMS_BOB, TEAMS_CAROL):  # personal chats only: the app is in no team
        assert await teams.install(member) == 201
    _, line = await break_the_glass(world, caplog, unreachable=TEAMS_CHANNEL)
    assert "install the app in its team" in line
    assert teams_channel_posts(world) == []
    assert REASON in shown(next(iter(slack.slack.messages[SLACK_CHANNEL].values())))
    bob_card = teams.latest(TEAMS_BOB, "Review break-glass use")
    assert card_verbs(card_of(bob_card.activity)) == REVIEW_VERBS


async def test_the_teams_broadcast_reaches_a_channel_learned_from_conversation_update(
    world: World,
) -> None:
    slack, teams = world.slack, world.teams
    await install_in_team(teams, TEAMS_CHANNEL, "incidents")  # nobody in a personal chat yet
    request_id = await break_glass_from_slack(world)
    await world.settle()

    [in_channel] = teams_channel_posts(world)
    said = card_text(card_of(in_channel.activity))
    assert REASON in said and "Alice Doe" in said
    bob_dm = slack.dm_with(S_BOB, "Please review")
    await slack.click(S_BOB, ids.BREAK_GLASS_FLAG, request_id, message=bob_dm)
    await world.settle()
    assert "Flagged by Bob Ray" in card_text(teams.current(in_channel))


async def test_an_unreachable_broadcast_channel_does_not_fail_the_notice(domain: Domain) -> None:
    domain.chat.unreachable_channels.add(SLACK_CHANNEL)
    view = await requests.submit(domain.ctx, requester=ALICE, draft=BREAK, platform="slack")
    await domain.run_jobs()

    assert domain.chat.channel_posts == []
    for owner in (BOB, CAROL):
        [asked] = domain.chat.to(owner, ReviewRequested)
        assert asked.request.id == view.id and not asked.review.done
    async with domain.ctx.store.reading() as session:
        rows = await session.execute(
            sa.text("SELECT last_error FROM jobs WHERE kind = :kind AND attempts > 0"),
            {"kind": str(Kind.BREAK_GLASS_NOTICE)},
        )
        assert list(rows.scalars()) == [None]
