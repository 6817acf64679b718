"""What must not work: forged, stale and replayed requests; clicks by the wrong people or with
tampered values; mrkdwn injection; strangers; and two approvers racing."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.slack import ids
from core.domain.errors import NotAParty
from core.domain.lifecycle import Status
from tests.fakes.slack import block_actions, shortcut, slash_command, view_submission
from tests.slack.harness import (
    INJECTIONS,
    NASTY,
    SIGNING_SECRET,
    Harness,
    buttons,
    raw,
    shown,
    texts,
)
from tests.slack.test_paths import pending_request
from tests.slack.test_scenario import submit_request

ALICE, BOB, CAROL, DAVE, MALLORY = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0MALLORY"
NOT_A_PARTY = str(NotAParty())


@pytest.mark.parametrize("case", ["forged", "stale", "future", "replayed", "restamped"])
async def test_unsigned_stale_or_replayed_requests_get_401_and_change_nothing(
    harness: Harness, case: str
) -> None:
    await pending_request(harness)
    before, calls = await harness.counts(), harness.slack.mark()
    request = slash_command(user_id=DAVE, trigger_id=harness.slack.new_trigger_id(user_id=DAVE))
    now = int(time.time())
    if case == "forged":
        reply = await harness.send(request, secret="not-the-signing-secret")
    elif case == "stale":
        reply = await harness.send(request, timestamp=now - 301)
    elif case == "future":
        reply = await harness.send(request, timestamp=now + 301)
    elif case == "replayed":
        first = await harness.send(request, timestamp=now)
        assert first.status == 200
        await harness.settle()
        before, calls = await harness.counts(), harness.slack.mark()
        reply = await harness.send(request, timestamp=now)  # the same signed bytes, again
    else:  # captured long ago, its timestamp changed to now: the signature no longer matches
        headers = request.headers(secret=SIGNING_SECRET, timestamp=now - 600)
        headers["X-Slack-Request-Timestamp"] = str(now)
        reply = await harness.send_raw(request.body, headers)
    assert reply.status == 401
    await harness.settle()
    assert await harness.counts() == before
    assert harness.slack.calls[calls:] == []


async def test_a_replayed_approval_decides_nothing_twice(harness: Harness) -> None:
    request_id = await pending_request(harness)
    click = block_actions(
        action_id=ids.APPROVE,
        value=request_id,
        user_id=BOB,
        channel_id=harness.slack.dm_channel(BOB),
        message_ts=harness.dm_with(BOB, request_id)["ts"],
    )
    stamp = int(time.time())
    assert (await harness.send(click, timestamp=stamp)).status == 200
    await harness.settle()
    assert (await harness.send(click, timestamp=stamp)).status == 401
    assert await harness.count("decisions") == 1


@pytest.mark.parametrize(
    ("clicker", "value", "answer"),
    [
        (DAVE, None, NOT_A_PARTY),
        (ALICE, None, "You cannot decide on your own request"),
        (BOB, "RZZZZZZZZZ", NOT_A_PARTY),  # unknown: told exactly what a non-party is told
        (BOB, "<!channel> ' OR 1=1 --", NOT_A_PARTY),
        (BOB, "", NOT_A_PARTY),
        (MALLORY, None, "is not in Gatepass's directory"),
    ],
)
async def test_wrong_clickers_and_tampered_values_are_refused(
    harness: Harness, clicker: str, value: str | None, answer: str
) -> None:
    request_id = await pending_request(harness)
    before, mark = await harness.counts(), harness.slack.mark()
    for action in (ids.APPROVE, ids.DENY):
        await harness.click(clicker, action, request_id if value is None else value)
    notes = harness.private_notes(clicker)
    assert len(notes) == 2 and all(answer in note for note in notes), notes
    assert await harness.status(request_id) is Status.PENDING
    assert not [c for c in harness.slack.calls[mark:] if c.method == "views.open"]  # no modal
    after = await harness.counts()
    assert {k: v for k, v in after.items() if k != "chat_accounts"} == {
        k: v for k, v in before.items() if k != "chat_accounts"
    }
    assert "<!channel>" not in "".join(
        raw(e) for e in harness.slack.ephemerals
    )  # the tampered value is echoed inert


async def test_two_approvers_at_once_make_one_decision(harness_on_each_database: Harness) -> None:
    harness = harness_on_each_database
    request_id = await pending_request(harness)
    copies = {user: harness.dm_with(user, request_id) for user in (BOB, CAROL)}

    async def click(user: str) -> int:
        request = block_actions(
            action_id=ids.APPROVE,
            value=request_id,
            user_id=user,
            channel_id=harness.slack.dm_channel(user),
            message_ts=copies[user]["ts"],
        )
        return (await harness.send(request)).status

    assert await asyncio.gather(click(BOB), click(CAROL)) == [200, 200]
    await harness.settle()
    assert await harness.count("decisions") == 1
    view = await harness.view_of(request_id)
    winner, loser = (BOB, CAROL) if view.decided_by == "bob@example.com" else (CAROL, BOB)
    winner_name = view.decided_by_name
    (note,) = harness.private_notes(loser)
    assert f"was already approved by {winner_name}" in note
    assert harness.private_notes(winner) == []
    await harness.run_jobs()
    finals = []
    for user in (BOB, CAROL):
        message = harness.slack.message(harness.slack.dm_channel(user), copies[user]["ts"])
        assert set(buttons(message)) == {ids.REVOKE_NOW}  # owners of the grant, now active
        finals.append(next(line for line in shown(message).splitlines() if "Approved by" in line))
    assert (
        finals[0]
        == finals[1]
        == f":white_check_mark: Approved by {winner_name} at 2026-11-23 10:00 UTC"
    )


async def test_injection_strings_render_inert_everywhere(harness: Harness) -> None:
    request_id = await submit_request(harness, justification=NASTY)
    await harness.run_jobs()
    mark = harness.slack.mark()
    await harness.click(BOB, ids.DENY, request_id, message=harness.dm_with(BOB, request_id))
    opened = await harness.slack.wait_for("views.open", since=mark)
    await harness.submit(BOB, opened.response["view"]["id"], {ids.REASON_INPUT: NASTY})
    await harness.run_jobs()
    await harness.command(BOB, "list")
    await harness.command(ALICE, "list")
    posted = [m for ms in harness.slack.messages.values() for m in ms.values()]
    surfaces = [
        *posted,
        *harness.slack.ephemerals,
        *(c.args for c in harness.slack.calls_to("response_url")),
        *harness.slack.views.views.values(),
    ]
    assert len(posted) >= 4  # receipt, two approval copies, outcome
    seen_justification = seen_reason = 0
    for surface in surfaces:
        for source in texts(surface, mrkdwn_only=True):
            for injected in INJECTIONS:
                assert injected not in source, (injected, source)
        if "click" in shown(surface):
            seen_justification += 1
    assert seen_justification >= 4  # approvers' copies, reason modal, Alice's list, outcome
    for message in posted:
        fallback = message.get("text", "")
        assert not any(injected in fallback for injected in INJECTIONS), fallback
        seen_reason += NASTY in shown(message)
    assert seen_reason >= 3  # the text reads exactly as typed


async def test_a_stranger_is_told_privately_and_nothing_is_stored(harness: Harness) -> None:
    before = await harness.counts()
    await harness.command(MALLORY)
    (answer,) = harness.slack.calls_to("response_url")
    assert "mallory@example.com is not in Gatepass's directory" in shown(answer.args)
    assert answer["response_type"] == "ephemeral"
    assert len(harness.slack.calls_to("views.open")) == 1
    assert "not in Gatepass's directory" in shown(harness.slack.calls_to("views.update")[0].args)
    mark = harness.slack.mark()
    trigger = harness.slack.new_trigger_id(user_id=MALLORY)
    await harness.send(shortcut(user_id=MALLORY, trigger_id=trigger))
    await harness.settle()
    dm = await harness.slack.wait_for("chat.postMessage", since=mark)
    assert dm["channel"] == MALLORY and "not in Gatepass's directory" in dm["text"]
    await harness.command(MALLORY, "pending")
    assert await harness.counts() == before
    assert await harness.count("chat_accounts") == 0


async def test_a_submission_by_a_stranger_stores_nothing(harness: Harness) -> None:
    values = {"justification": {ids.JUSTIFICATION_INPUT: {"value": "x"}}}
    request = view_submission(callback_id=ids.REQUEST_SUBMIT, values=values, user_id=MALLORY)
    reply = await harness.send(request)
    assert reply.json()["response_action"] == "update"
    assert "not in Gatepass's directory" in shown(reply.json()["view"])
    assert await harness.count("requests") == 0 and await harness.count("chat_accounts") == 0
