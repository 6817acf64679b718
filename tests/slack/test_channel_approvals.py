"""Approvals in a shared channel, over HTTP against the fake Slack Web API.

A flow with ``notify_approvers: both`` posts its ask to ``#db-access`` and to each approver's
DM; with ``channel`` only to the channel. Anyone in the channel sees the buttons, but only the
routed approvers may decide: anyone else is told so privately (``chat.postEphemeral``) and
nothing changes. The first decision brings the channel copy and every DM copy to its state;
nothing of the access itself (connection string, username, password) reaches the channel.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.slack import ids
from core.domain.lifecycle import Status
from tests.fakes.slack import FakeSlack, block_actions
from tests.slack.harness import Harness, buttons, shown, slack_config, start_harness
from tests.slack.test_scenario import submit_request
from tests.support.domain import BASE_CONFIG

ALICE, BOB, CAROL, DAVE, MALLORY = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0MALLORY"
CHANNEL = "C0DBACCESS1"


def channel_config(slack: FakeSlack, database_url: str, notify: str) -> dict[str, Any]:
    flow = copy.deepcopy(BASE_CONFIG["access_flows"][0])
    flow["notify_approvers"] = notify
    flow["approval_channel"] = {"slack": CHANNEL, "teams": "19:dbaccess@thread.tacv2"}
    return slack_config(slack, database_url, access_flows=[flow])


async def _started(
    slack: FakeSlack, sqlite_url: str, encryption_key: str, notify: str
) -> AsyncIterator[Harness]:
    slack.add_channel(CHANNEL)
    started = await start_harness(
        slack, sqlite_url, encryption_key, config=channel_config(slack, sqlite_url, notify)
    )
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def both(slack: FakeSlack, sqlite_url: str, encryption_key: str) -> AsyncIterator[Harness]:
    async for started in _started(slack, sqlite_url, encryption_key, "both"):
        yield started


@pytest.fixture
async def channel_only(
    slack: FakeSlack, sqlite_url: str, encryption_key: str
) -> AsyncIterator[Harness]:
    async for started in _started(slack, sqlite_url, encryption_key, "channel"):
        yield started


def channel_copy(harness: Harness) -> dict[str, Any]:
    [message] = harness.slack.messages.get(CHANNEL, {}).values()
    return message


async def click_in_channel(harness: Harness, user_id: str, action_id: str, value: str) -> None:
    message = channel_copy(harness)
    reply = await harness.send(
        block_actions(
            action_id=action_id,
            value=value,
            user_id=user_id,
            user_name=harness.user_name(user_id),
            channel_id=CHANNEL,
            message_ts=message["ts"],
            trigger_id=harness.slack.new_trigger_id(user_id=user_id),
        )
    )
    assert reply.status == 200
    await harness.settle()


async def asked(harness: Harness) -> str:
    request_id = await submit_request(harness)
    await harness.run_jobs()
    return request_id


async def test_the_ask_lands_in_the_channel_and_in_every_dm(both: Harness) -> None:
    request_id = await asked(both)
    message = channel_copy(both)
    assert buttons(message) == {ids.CHANNEL_APPROVE: request_id, ids.CHANNEL_DENY: request_id}
    text = shown(message)
    assert "Alice Doe" in text and "analytics" in text and "quarterly report" in text
    assert "Bob Ray" in text and "Carol Lin" in text  # who may decide, and why
    assert "Why you" not in text
    for approver in (BOB, CAROL):
        assert buttons(both.dm_with(approver, request_id))[ids.APPROVE] == request_id


async def test_outsiders_are_refused_privately_and_nothing_changes(both: Harness) -> None:
    request_id = await asked(both)
    before = copy.deepcopy(channel_copy(both))
    counts = await both.counts()
    for outsider in (DAVE, MALLORY, ALICE):  # no party; not in the directory; the requester
        await click_in_channel(both, outsider, ids.CHANNEL_APPROVE, request_id)
        await click_in_channel(both, outsider, ids.CHANNEL_DENY, request_id)
    await both.run_jobs()
    assert await both.status(request_id) is Status.PENDING
    assert channel_copy(both) == before
    after = await both.counts()
    for table in counts:  # the clickers' identities may be remembered; nothing else changes
        if table != "chat_accounts":
            assert after[table] == counts[table], table
    assert not both.slack.calls_to("chat.update")
    assert not both.slack.calls_to("views.open", include_failed=True)[1:]  # the form's only
    for outsider in (DAVE, MALLORY, ALICE):
        notes = [e for e in both.slack.ephemerals if e["user"] == outsider]
        assert len(notes) == 2 and all(e["channel"] == CHANNEL for e in notes)
    said = {e["user"]: shown(e) for e in both.slack.ephemerals}
    assert "not a request you made, approve or own" in said[DAVE]
    assert "not in Gatepass's directory" in said[MALLORY]
    assert f"cannot decide on your own request {request_id}" in said[ALICE]
    assert all("quarterly report" not in note for note in said.values())


async def test_the_first_decision_updates_the_channel_copy_and_every_dm(both: Harness) -> None:
    request_id = await asked(both)
    await click_in_channel(both, BOB, ids.CHANNEL_APPROVE, request_id)
    assert await both.status(request_id) in (Status.APPROVED, Status.GRANTING, Status.ACTIVE)
    message = channel_copy(both)
    assert buttons(message) == {}
    assert "Approved by Bob Ray" in shown(message)
    await both.run_jobs()
    for approver in (BOB, CAROL):
        dm = both.dm_with(approver, request_id)
        # Decided: no decision buttons; as integration owners they may revoke the access.
        assert buttons(dm) == {ids.REVOKE_NOW: request_id}, shown(dm)
        assert "Approved by Bob Ray" in shown(dm)
    assert await both.status(request_id) is Status.ACTIVE
    final = shown(channel_copy(both))
    assert "Access active until" in final
    # Carol, too late, is told who won; nothing changes.
    await click_in_channel(both, CAROL, ids.CHANNEL_DENY, request_id)
    assert "Bob Ray" in shown(both.slack.ephemerals[-1])
    assert await both.status(request_id) is Status.ACTIVE
    # Nothing of the access reaches the channel: no username, connection string or password.
    everything_in_channel = [c.args for c in both.slack.calls if c.args.get("channel") == CHANNEL]
    posted = repr(everything_in_channel)
    assert both.atlas.passwords_issued == 1
    for secret in ("pw-", "mongodb+srv", both.atlas.username("alice@example.com")):
        assert secret not in posted


async def test_a_deny_from_the_channel_asks_for_the_reason(both: Harness) -> None:
    request_id = await asked(both)
    mark = both.slack.mark()
    await click_in_channel(both, CAROL, ids.CHANNEL_DENY, request_id)
    opened = await both.slack.wait_for("views.open", since=mark)
    view_id = opened.response["view"]["id"]
    assert await both.status(request_id) is Status.PENDING
    reply = await both.submit(CAROL, view_id, {ids.REASON_INPUT: "not this quarter"})
    assert reply.status == 200
    await both.run_jobs()
    assert await both.status(request_id) is Status.DENIED
    text = shown(channel_copy(both))
    assert "Denied by Carol Lin" in text and "not this quarter" in text
    assert buttons(channel_copy(both)) == {}
    assert "Denied by Carol Lin" in shown(both.dm_with(BOB, request_id))


async def test_channel_only_sends_no_dm_to_approvers(channel_only: Harness) -> None:
    request_id = await asked(channel_only)
    assert buttons(channel_copy(channel_only))[ids.CHANNEL_APPROVE] == request_id
    assert channel_only.dm(BOB) == [] and channel_only.dm(CAROL) == []
    await click_in_channel(channel_only, CAROL, ids.CHANNEL_APPROVE, request_id)
    await channel_only.run_jobs()
    assert await channel_only.status(request_id) is Status.ACTIVE
    assert "Approved by Carol Lin" in shown(channel_copy(channel_only))
    assert channel_only.dm(BOB) == [] and channel_only.dm(CAROL) == []
    assert any("Access ready" in shown(m) or "ready" in shown(m) for m in channel_only.dm(ALICE))


async def test_a_channel_the_bot_is_not_in_falls_back_to_dms(channel_only: Harness) -> None:
    channel_only.slack.fail_next("chat.postMessage", error="not_in_channel", channel=CHANNEL)
    request_id = await asked(channel_only)
    assert channel_only.slack.messages.get(CHANNEL, {}) == {}
    for approver in (BOB, CAROL):
        assert buttons(channel_only.dm_with(approver, request_id))[ids.APPROVE] == request_id


async def test_a_decision_in_a_dm_updates_the_channel_copy_to_the_end(both: Harness) -> None:
    request_id = await asked(both)
    reply = await both.click(
        CAROL, ids.APPROVE, request_id, message=both.dm_with(CAROL, request_id)
    )
    assert reply.status == 200
    await both.run_jobs()
    message = channel_copy(both)
    assert buttons(message) == {}
    assert "Approved by Carol Lin" in shown(message)
    assert buttons(both.dm_with(BOB, request_id)) == {ids.REVOKE_NOW: request_id}
    both.clock.advance(hours=2)  # past the hour it was granted for
    await both.run_jobs()
    await both.run_jobs()
    assert await both.status(request_id) is Status.EXPIRED
    assert "Access expired at" in shown(channel_copy(both))


async def test_reminders_are_posted_to_the_channel_again(channel_only: Harness) -> None:
    request_id = await asked(channel_only)
    channel_only.clock.advance(minutes=31)  # the flow's first reminder is at 30m
    await channel_only.run_jobs()
    copies = [
        channel_only.slack.messages[CHANNEL][ts]
        for ts in sorted(channel_only.slack.messages[CHANNEL])
    ]
    assert len(copies) == 2 and "Reminder" in shown(copies[1])
    assert channel_only.dm(BOB) == [] and channel_only.dm(CAROL) == []
    reply = await channel_only.send(
        block_actions(
            action_id=ids.CHANNEL_APPROVE,
            value=request_id,
            user_id=BOB,
            user_name=channel_only.user_name(BOB),
            channel_id=CHANNEL,
            message_ts=copies[1]["ts"],
        )
    )
    assert reply.status == 200
    await channel_only.settle()
    await channel_only.run_jobs()
    for ts in sorted(channel_only.slack.messages[CHANNEL]):
        message = channel_only.slack.messages[CHANNEL][ts]
        assert buttons(message) == {} and "Approved by Bob Ray" in shown(message)
