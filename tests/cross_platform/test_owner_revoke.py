"""An integration owner's "Revoke now", on Slack and on Teams, against the Atlas wire fake.

Bob and Carol own prod-atlas (group dba). Database sales is owned by Dave, so Dave approves
Alice's sales request; when its grant becomes active Bob and Carol get a copy of it carrying
"Revoke now", and the owners who approved a request have their approval message turned into
such a copy. A revocation asks for a reason (required), removes the Atlas user — or PATCHes it
down to the union of the grants that remain — updates every copy on both platforms, and tells
Alice who revoked and why. Anybody else is refused privately and nothing changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.app import build
from bot.slack import ids
from bot.slack.install import install as install_slack
from bot.teams.install import install as install_teams
from core.config.settings import Settings
from core.domain.lifecycle import Status
from core.storage import resources
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, FakeAtlas
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.slack.harness import SIGNING_SECRET, buttons, shown
from tests.slack.harness import Harness as SlackHarness
from tests.support.clock import ManualClock
from tests.support.domain import BASE_CONFIG, RESOURCES
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    TeamsHarness,
    card_inputs,
    card_text,
    card_verbs,
    serve_without_worker_loop,
    submit_request,
    teams_settings,
)

SLACK_ALICE, SLACK_BOB, SLACK_CAROL, SLACK_DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
REVOKE = "access.revoke"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock, pending_polls=0) as fake:
        yield fake


def atlas_settings(
    slack: FakeSlack,
    atlas: FakeAtlas,
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
) -> Settings:
    """Both edges' settings, prod-atlas speaking HTTP to the Atlas fake."""
    integration = dict(BASE_CONFIG["integrations"][0])
    integration |= {
        "atlas_url": atlas.url,
        "secret": {"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
    }
    return teams_settings(
        database_url=sqlite_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=token_endpoint,
        slack={
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": slack.api_url,
        },
        environ={
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ATLAS_PUBLIC": "gpfakepublickey",
            "ATLAS_PRIVATE": PRIVATE_KEY,
        },
        integrations=[integration],
    )


@pytest.fixture
async def both(
    slack: FakeSlack,
    atlas: FakeAtlas,
    clock: ManualClock,
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
) -> AsyncIterator[BothPlatforms]:
    """Both edges, and the real Atlas integration speaking HTTP to the Atlas fake."""
    settings = atlas_settings(slack, atlas, sqlite_url, encryption_key, openid, token_endpoint)
    gatepass = await build(
        settings,
        clock=clock,
        platforms=[install_slack, install_teams],
        start_worker_loop=False,
        migrate=False,
        readiness_ttl=0.0,
    )
    async with gatepass.ctx.store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=clock.now())
    runner, base_url = await serve_without_worker_loop(gatepass)
    assert gatepass.worker is not None
    session = aiohttp.ClientSession()
    fake_atlas: Any = atlas  # the harnesses only carry it
    slack_side = SlackHarness(
        gatepass=gatepass,
        slack=slack,
        runner=runner,
        session=session,
        url=base_url + "/slack/events",
        clock=clock,
        worker=gatepass.worker,
        atlas=fake_atlas,
    )
    channel = FakeTeamsChannel(openid=openid, connector=connector)
    teams_side = TeamsHarness(gatepass, clock, fake_atlas, connector, channel, base_url)
    for member in (ALICE, BOB, CAROL, DAVE):
        assert await teams_side.install(member) == 201
    yield BothPlatforms(slack_side, teams_side)
    await slack_side.close()
    await gatepass.close()


async def settle(both: BothPlatforms) -> None:
    for _ in range(3):
        await both.run_jobs()
        both.slack.clock.advance(seconds=5)
    await both.run_jobs()


async def approved(both: BothPlatforms, resource: str, approver: Any) -> str:
    request_id = await submit_request(both.teams, ALICE, resource=resource)
    await both.run_jobs()
    await both.teams.click(approver, "approval.approve", {"request": request_id})
    await settle(both)
    assert await both.slack.status(request_id) is Status.ACTIVE
    return request_id


def atlas_roles(atlas: FakeAtlas) -> dict[str, list[str]]:
    return {
        name: sorted(f"{r['roleName']}@{r['databaseName']}" for r in user["roles"])
        for name, user in atlas.users[PROJECT_ID].items()
    }


async def revoke_events(both: BothPlatforms) -> int:
    async with both.slack.ctx.store.reading() as session:
        found = await session.execute(
            sa.text("SELECT count(*) FROM audit_events WHERE action = 'grant.revoke_requested'")
        )
        return int(found.scalar_one())


def teams_copy(both: BothPlatforms, member: Any, request_id: str) -> dict[str, Any]:
    """The member's approval card (or owner's copy) of the request, as it is now."""
    found = [
        a
        for a in both.teams.sent_to(member)
        if a.attachments and request_id in card_text(both.teams.current(a))
        and "Why you" in card_text(both.teams.current(a))
    ]  # fmt: skip
    assert found, f"no copy of {request_id} for {member.name}"
    return both.teams.current(found[-1])


async def test_an_owner_revokes_from_teams(both: BothPlatforms, atlas: FakeAtlas) -> None:
    slack, teams = both.slack, both.teams
    request_id = await approved(both, "database:sales", DAVE)
    [username] = atlas_roles(atlas)
    assert atlas_roles(atlas) == {username: ["read@sales"]}

    # The owners, not asked to approve, got a copy with "Revoke now" on both platforms;
    # Dave, who approved but owns no integration, has none.
    for member, slack_user in ((BOB, SLACK_BOB), (CAROL, SLACK_CAROL)):
        card = teams_copy(both, member, request_id)
        assert card_verbs(card) == [REVOKE]
        assert card_inputs(card)["reason"]["isRequired"] is True
        assert "integration owner of prod-atlas" in card_text(card)
        assert buttons(slack.dm_with(slack_user, request_id)) == {ids.REVOKE_NOW: request_id}
    assert card_verbs(teams_copy(both, DAVE, request_id)) == []
    assert ids.REVOKE_NOW not in buttons(slack.dm_with(SLACK_DAVE, request_id))

    # No reason (or only blanks): a field error on the card, nothing changes.
    for blank in ("", "   \n "):
        card = await teams.click(BOB, REVOKE, {"request": request_id, "reason": blank})
        assert "Say why you revoke this access." in card_text(card)
    # Dave (a party, no owner) and Alice forge the action: a private message, nothing changes.
    for member in (DAVE, ALICE):
        refusal = await teams.click_for_message(
            member, REVOKE, {"request": request_id, "reason": "forged"}
        )
        assert "Only an owner of prod-atlas" in refusal
    await settle(both)
    assert await slack.status(request_id) is Status.ACTIVE
    assert await revoke_events(both) == 0
    assert atlas_roles(atlas) == {username: ["read@sales"]}

    card = await teams.click(BOB, REVOKE, {"request": request_id, "reason": "leaving the team"})
    assert "Removing the access" in card_text(card)
    await settle(both)
    assert await slack.status(request_id) is Status.REVOKED
    assert username not in atlas.users[PROJECT_ID]

    # Every copy on both platforms says so, without buttons; Alice learns who and why.
    for member in (BOB, CAROL, DAVE):
        card = teams_copy(both, member, request_id)
        assert "Access removed" in card_text(card) and card_verbs(card) == []
        assert "revoked by Bob Ray: leaving the team" in card_text(card)
    for slack_user in (SLACK_BOB, SLACK_CAROL, SLACK_DAVE):
        message = slack.dm_with(slack_user, request_id)
        assert "Access removed" in shown(message) and buttons(message) == {}
    ended = card_text(teams.current(teams.latest(ALICE, "access was removed")))
    assert "revoked by Bob Ray: leaving the team" in ended
    ready = card_text(teams.current(teams.latest(ALICE, "Your access")))
    assert "Reveal" not in ready


async def open_revoke_modal(both: BothPlatforms, user_id: str, request_id: str) -> str:
    slack = both.slack
    mark = slack.slack.mark()
    message = slack.dm_with(user_id, request_id)
    assert (await slack.click(user_id, ids.REVOKE_NOW, request_id, message=message)).status == 200
    opened = await slack.slack.wait_for("views.open", since=mark)
    view = opened.response["view"]
    assert view["callback_id"] == ids.REVOKE_REASON
    return str(view["id"])


async def test_an_owner_revokes_from_slack_and_the_union_is_kept(
    both: BothPlatforms, atlas: FakeAtlas
) -> None:
    slack, teams = both.slack, both.teams
    sales = await approved(both, "database:sales", DAVE)
    analytics = await approved(both, "database:analytics", CAROL)  # Bob and Carol approve it
    [username] = atlas_roles(atlas)
    assert atlas_roles(atlas) == {username: ["read@analytics", "read@sales"]}

    # Bob was asked to approve analytics: his approval message now carries "Revoke now".
    assert buttons(slack.dm_with(SLACK_BOB, analytics)) == {ids.REVOKE_NOW: analytics}
    assert card_verbs(teams_copy(both, BOB, analytics)) == [REVOKE]

    # Dave is no party of analytics: the door refuses him; of sales he is, but no owner.
    mark = slack.slack.mark()
    await slack.click(SLACK_DAVE, ids.REVOKE_NOW, analytics)
    await slack.click(SLACK_DAVE, ids.REVOKE_NOW, sales)
    assert all(call.method != "views.open" for call in slack.slack.calls[mark:])
    notes = slack.private_notes(SLACK_DAVE)
    assert any("Only an owner of prod-atlas" in note for note in notes), notes

    view_id = await open_revoke_modal(both, SLACK_BOB, analytics)
    for blank in ("", "  "):
        reply = await slack.submit(SLACK_BOB, view_id, {ids.REASON_INPUT: blank})
        assert reply.json() == {
            "response_action": "errors",
            "errors": {"reason": "Say why you revoke this access."},
        }
    await settle(both)
    assert await slack.status(analytics) is Status.ACTIVE and await revoke_events(both) == 0

    reply = await slack.submit(SLACK_BOB, view_id, {ids.REASON_INPUT: "wrong team"})
    assert reply.status == 200 and reply.json() is None, reply.body
    await settle(both)
    assert await slack.status(analytics) is Status.REVOKED
    assert await slack.status(sales) is Status.ACTIVE
    assert atlas_roles(atlas) == {username: ["read@sales"]}  # PATCHed to what remains

    for slack_user in (SLACK_BOB, SLACK_CAROL):
        message = slack.dm_with(slack_user, analytics)
        assert "revoked by Bob Ray: wrong team" in shown(message) and buttons(message) == {}
    for member in (BOB, CAROL):
        card = teams_copy(both, member, analytics)
        assert "revoked by Bob Ray: wrong team" in card_text(card)
        assert card_verbs(card) == []
        assert card_verbs(teams_copy(both, member, sales)) == [REVOKE]  # sales still runs
    ended = card_text(teams.current(teams.latest(ALICE, "access was removed")))
    assert "revoked by Bob Ray: wrong team" in ended
