"""Approvals in a team channel, over HTTP against the Bot Framework connector fake.

Installing the app in a team stores the team's channels (its General channel and every channel
an event names). A flow with ``notify_approvers: both`` posts its ask as a new message in its
``approval_channel`` and to each approver's personal chat; with ``channel`` only to the
channel. Anyone in the channel may click, but only the routed approvers decide: anybody else is
answered for their eyes only (the invoke's answer) and nothing changes. The first decision
brings the channel copy and every DM copy to its state; nothing of the access reaches it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.errors import NotAParty
from core.domain.lifecycle import Status
from core.storage.models import AccessRequest
from tests.fakes.teams import RecordedActivity
from tests.support.domain import BASE_CONFIG
from tests.teams import team_channels
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    MALLORY,
    FakeMember,
    TeamsHarness,
    card_of,
    card_text,
    card_verbs,
    submit_request,
)
from tests.teams.team_channels import TEAM, in_team

CHANNEL = "19:db-access@thread.tacv2"


def _flow(notify: str) -> dict[str, Any]:
    flow = copy.deepcopy(BASE_CONFIG["access_flows"][0])
    flow.update(notify_approvers=notify, approval_channel={"teams": CHANNEL})
    return {"access_flows": [flow]}


async def install_in_team(teams: TeamsHarness) -> None:
    """Carol adds the app to the team; later she makes the #db-access channel."""
    await team_channels.install_in_team(teams, CHANNEL, "db-access")


async def asked(teams: TeamsHarness) -> str:
    await install_in_team(teams)
    for member in (ALICE, BOB, CAROL, DAVE):
        assert await teams.install(member) == 201
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()
    return request_id


def channel_posts(teams: TeamsHarness) -> list[RecordedActivity]:
    return [a for a in teams.connector.activities if a.conversation_id == CHANNEL]


def channel_copy(teams: TeamsHarness) -> dict[str, Any]:
    [posted] = channel_posts(teams)
    return teams.current(posted)


def asks_to(teams: TeamsHarness, member: FakeMember) -> list[dict[str, Any]]:
    return [c for c in teams.cards_to(member) if "Access request" in card_text(c)]


async def click_in_channel(
    teams: TeamsHarness, member: FakeMember, verb: str, request_id: str, **inputs: str
) -> dict[str, Any]:
    [posted] = channel_posts(teams)
    activity = teams.channel.card_action(
        verb=verb,
        user=member,
        data={"request": request_id, **inputs},
        replyToId=posted.id,  # the card clicked, as Teams says
        **in_team(f"{CHANNEL};messageid={posted.id}", channel={"id": CHANNEL}),
    )
    status, body = await teams.post(activity)
    assert status == 200, (status, body)
    return dict(body)


async def status_of(teams: TeamsHarness, request_id: str) -> Status:
    async with teams.ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    assert request is not None
    return Status(request.status)


@pytest.fixture
def flow_changes(request: pytest.FixtureRequest) -> dict[str, object]:
    return _flow(getattr(request, "param", "both"))


async def test_installing_in_a_team_remembers_its_channels(teams: TeamsHarness) -> None:
    await install_in_team(teams)
    installed = teams.channel.activity("installationUpdate", user=DAVE, action="add")
    installed.update(in_team(TEAM))
    assert (await teams.post(installed))[0] in (200, 201)
    async with teams.ctx.store.reading() as session:
        rows = (await session.execute(sa.text("SELECT channel_id FROM chat_channels"))).all()
    assert sorted(r[0] for r in rows) == sorted([TEAM, CHANNEL])
    assert teams.connector.activities == []  # no welcome, no refusal posted in the team


async def test_the_ask_lands_in_the_channel_and_in_every_dm(teams: TeamsHarness) -> None:
    request_id = await asked(teams)
    card = channel_copy(teams)
    assert request_id in card_text(card)
    assert card_verbs(card) == ["channel.approve", "channel.deny"]
    text = card_text(card)
    assert "Alice Doe" in text and "analytics" in text and "quarterly report" in text
    assert "Bob Ray" in text and "Carol Lin" in text
    assert "Why you" not in text
    assert {BOB.aad_object_id, CAROL.aad_object_id} <= set(card["refresh"]["userIds"])
    assert ALICE.aad_object_id not in card["refresh"]["userIds"]
    for approver in (BOB, CAROL):
        [ask] = asks_to(teams, approver)
        assert card_verbs(ask) == ["approval.approve", "approval.deny"]


async def test_outsiders_are_refused_privately_and_nothing_changes(teams: TeamsHarness) -> None:
    request_id = await asked(teams)
    for verb in ("channel.approve", "channel.deny", "channel.refresh"):
        stranger = await click_in_channel(teams, DAVE, verb, request_id, reason="x")
        assert stranger["type"] == "application/vnd.microsoft.activity.message"
        assert stranger["value"] == str(NotAParty())
        unknown = await click_in_channel(teams, MALLORY, verb, request_id, reason="x")
        assert "not in Gatepass's directory" in unknown["value"]
    own = await click_in_channel(teams, ALICE, "channel.approve", request_id)
    assert f"You cannot decide on your own request {request_id}" in card_text(own["value"])
    assert card_verbs(own["value"]) == []  # her answer only: the shared card keeps them
    assert "Waiting for the approvers to decide." in card_text(own["value"])
    await teams.run_jobs()
    assert await status_of(teams, request_id) is Status.PENDING
    assert teams.connector.updates == []
    assert len(channel_posts(teams)) == 1


async def test_the_first_decision_updates_the_channel_copy_and_every_dm(
    teams: TeamsHarness,
) -> None:
    request_id = await asked(teams)
    answer = await click_in_channel(teams, BOB, "channel.approve", request_id)
    assert f"You approved request {request_id}." in card_text(answer["value"])
    assert card_verbs(answer["value"]) == []
    await teams.run_jobs()
    assert await status_of(teams, request_id) is Status.ACTIVE
    final = channel_copy(teams)
    assert card_verbs(final) == [] and "refresh" not in final
    assert "Approved by Bob Ray" in card_text(final)
    for approver in (BOB, CAROL):
        dm = teams.current(teams.latest(approver, "Access request"))
        # Decided: no decision buttons; as integration owners they may revoke the access.
        assert card_verbs(dm) == ["access.revoke"] and "Approved by Bob Ray" in card_text(dm)
    late = await click_in_channel(teams, CAROL, "channel.deny", request_id, reason="no")
    assert "Bob Ray" in card_text(late["value"])
    assert await status_of(teams, request_id) is Status.ACTIVE
    in_channel = repr(
        [a.activity for a in channel_posts(teams)]
        + [u.activity for u in teams.connector.updates if u.conversation_id == CHANNEL]
    )
    for secret in ("pw-", "mongodb+srv", teams.atlas.username("alice@example.com")):
        assert secret not in in_channel


async def test_a_deny_from_the_channel_needs_its_reason(teams: TeamsHarness) -> None:
    request_id = await asked(teams)
    missing = await click_in_channel(teams, CAROL, "channel.deny", request_id)
    assert "Say why you deny the request." in card_text(missing["value"])
    assert await status_of(teams, request_id) is Status.PENDING
    await click_in_channel(teams, CAROL, "channel.deny", request_id, reason="not now")
    await teams.run_jobs()
    assert await status_of(teams, request_id) is Status.DENIED
    assert "Denied by Carol Lin" in card_text(channel_copy(teams))
    assert "not now" in card_text(channel_copy(teams))


@pytest.mark.parametrize("flow_changes", ["channel"], indirect=True)
async def test_channel_only_sends_no_dm_to_approvers(teams: TeamsHarness) -> None:
    request_id = await asked(teams)
    assert card_verbs(channel_copy(teams)) == ["channel.approve", "channel.deny"]
    assert asks_to(teams, BOB) == [] and asks_to(teams, CAROL) == []
    await click_in_channel(teams, CAROL, "channel.approve", request_id)
    await teams.run_jobs()
    assert await status_of(teams, request_id) is Status.ACTIVE
    assert "Approved by Carol Lin" in card_text(channel_copy(teams))
    assert asks_to(teams, BOB) == [] and asks_to(teams, CAROL) == []
    assert request_id in card_text(card_of(channel_posts(teams)[0].activity))


def in_channel_now(teams: TeamsHarness) -> str:
    return repr(
        [a.activity for a in channel_posts(teams)]
        + [u.activity for u in teams.connector.updates if u.conversation_id == CHANNEL]
    )


async def test_a_late_answer_goes_to_its_clicker_alone_never_onto_the_channel_card(
    teams: TeamsHarness,
) -> None:
    """With no time at all for an action, each click in the channel is answered "working on
    it"; what each person would have been answered goes to their personal chat, and the
    shared card changes only with the decision, to its state for everyone."""
    request_id = await asked(teams)
    teams.late.within = 0.0
    before = in_channel_now(teams)
    clicks = ((DAVE, "channel.approve"), (ALICE, "channel.approve"), (CAROL, "channel.deny"))
    for member, verb in clicks:
        answer = await click_in_channel(teams, member, verb, request_id)
        assert "Working on it" in card_text(answer["value"]), answer
        assert "your chat with Gatepass" in card_text(answer["value"])
        await teams.settle()
    assert in_channel_now(teams) == before  # nobody's own answer reached the shared card
    told = {m.name: repr([a.activity for a in teams.sent_to(m)][-1]) for m, _ in clicks}
    assert str(NotAParty()) in told[DAVE.name] and request_id not in told[DAVE.name]
    assert f"You cannot decide on your own request {request_id}" in told[ALICE.name]
    assert "Say why you deny the request." in told[CAROL.name]
    assert await status_of(teams, request_id) is Status.PENDING
    await click_in_channel(teams, BOB, "channel.approve", request_id)
    await teams.settle()
    assert f"You approved request {request_id}" in repr(teams.sent_to(BOB)[-1].activity)
    await teams.run_jobs()
    assert "Approved by Bob Ray" in card_text(channel_copy(teams))
    assert "You approved" not in in_channel_now(teams)
