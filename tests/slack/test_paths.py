"""The other ways a request goes: denied (with the reason modal), cancelled, timed out, ended
early ("I'm done"), extended; and an approval that needs a reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.slack import ids
from core.domain.lifecycle import Status
from core.domain.ports import IntegrationError
from tests.fakes.slack import FakeSlack
from tests.slack.harness import Harness, buttons, shown, slack_config, start_harness
from tests.slack.test_scenario import submit_request
from tests.support.domain import BASE_CONFIG

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


async def pending_request(harness: Harness, **draft: str) -> str:
    request_id = await submit_request(harness, **draft)
    await harness.run_jobs()
    return request_id


async def granted_request(harness: Harness) -> str:
    request_id = await pending_request(harness)
    bob_copy = harness.dm_with(BOB, request_id)
    await harness.click(BOB, ids.APPROVE, request_id, message=bob_copy)
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.ACTIVE
    return request_id


async def test_deny_asks_for_a_reason_and_tells_the_requester(harness: Harness) -> None:
    request_id = await pending_request(harness)
    bob_copy = harness.dm_with(BOB, request_id)
    mark = harness.slack.mark()
    await harness.click(BOB, ids.DENY, request_id, message=bob_copy)
    opened = await harness.slack.wait_for("views.open", since=mark)
    modal_id = opened.response["view"]["id"]
    assert harness.view(modal_id)["callback_id"] == ids.DENY_REASON
    assert await harness.status(request_id) is Status.PENDING  # nothing decided yet

    empty = await harness.submit(BOB, modal_id, {ids.REASON_INPUT: " "})
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"reason": "Say why you deny the request."},
    }
    reply = await harness.submit(BOB, modal_id, {ids.REASON_INPUT: "use the replica"})
    assert reply.status == 200 and reply.json() is None
    assert await harness.status(request_id) is Status.DENIED
    bob_now = harness.dm_with(BOB, request_id)
    assert "Denied by Bob Ray at" in shown(bob_now) and not buttons(bob_now)

    await harness.run_jobs()
    outcome = harness.dm_with(ALICE, "Denied by")
    assert "use the replica" in shown(outcome)
    carol_copy = harness.dm_with(CAROL, request_id)
    assert "Denied by Bob Ray" in shown(carol_copy) and not buttons(carol_copy)
    receipt = harness.dm_with(ALICE, f"Your request *{request_id}*")
    assert not buttons(receipt)  # no Cancel any more


async def test_the_requester_cancels_from_the_receipt(harness: Harness) -> None:
    request_id = await pending_request(harness)
    receipt = harness.dm_with(ALICE, f"Your request *{request_id}*")
    await harness.click(ALICE, ids.CANCEL_REQUEST, request_id, message=receipt)
    assert await harness.status(request_id) is Status.CANCELLED
    assert "Cancelled by the requester" in shown(harness.dm_with(ALICE, f"*{request_id}*"))
    await harness.run_jobs()
    for approver in (BOB, CAROL):
        copy = harness.dm_with(approver, request_id)
        assert "Cancelled by the requester" in shown(copy) and not buttons(copy)
    await harness.click(ALICE, ids.CANCEL_REQUEST, request_id, message=receipt)
    assert any("cannot be cancelled" in note for note in harness.private_notes(ALICE))


async def test_nobody_decides_in_time(harness: Harness) -> None:
    request_id = await pending_request(harness)
    harness.clock.advance(hours=24, seconds=1)
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.TIMED_OUT
    assert "nobody decided in time" in shown(harness.dm_with(ALICE, "Timed out"))
    for approver in (BOB, CAROL):
        copy = harness.dm_with(approver, request_id)
        assert "Timed out at" in shown(copy) and not buttons(copy)


async def test_reminders_are_marked(harness: Harness) -> None:
    request_id = await pending_request(harness)
    harness.clock.advance(minutes=31)
    await harness.run_jobs()
    reminder = harness.dm(BOB)[-1]
    assert "Reminder:" in shown(reminder) and request_id in shown(reminder)
    assert buttons(reminder) == {ids.APPROVE: request_id, ids.DENY: request_id}


async def test_im_done_revokes_now(harness: Harness) -> None:
    request_id = await granted_request(harness)
    ready = harness.dm_with(ALICE, "Your access is ready")
    await harness.click(ALICE, ids.DONE, request_id, message=ready)
    assert any("Removing your access now" in n for n in harness.private_notes(ALICE))
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.REVOKED
    assert harness.atlas.accounts == {}
    assert "was removed at" in shown(harness.dm(ALICE)[-1])
    assert not buttons(harness.dm_with(ALICE, "mongodb+srv"))


async def test_extend_asks_for_a_new_approval(harness: Harness) -> None:
    request_id = await granted_request(harness)
    harness.clock.advance(minutes=51)
    await harness.run_jobs()
    warning = harness.dm_with(ALICE, "ends at")
    mark = harness.slack.mark()
    await harness.click(ALICE, ids.EXTEND, request_id, message=warning)
    opened = await harness.slack.wait_for("views.open", since=mark)
    modal_id = opened.response["view"]["id"]
    modal = harness.view(modal_id)
    assert modal["callback_id"] == ids.EXTEND_SUBMIT
    reply = await harness.submit(
        ALICE, modal_id, {ids.DURATION_SELECT: "4h", ids.JUSTIFICATION_INPUT: "not finished"}
    )
    assert reply.status == 200 and reply.json() is None
    extension = (await harness.request_ids())[-1]
    view = await harness.view_of(extension)
    assert view.extends_request_id == request_id and view.status is Status.PENDING
    await harness.run_jobs()
    ask = harness.dm_with(BOB, "not finished")
    assert f"*Extends*\n{request_id}" in shown(ask)
    assert buttons(ask) == {ids.APPROVE: extension, ids.DENY: extension}


async def test_only_the_requester_extends(harness: Harness) -> None:
    request_id = await granted_request(harness)
    mark = harness.slack.mark()
    await harness.click(BOB, ids.EXTEND, request_id)
    told = await harness.slack.wait_for("chat.postEphemeral", since=mark)
    assert told.args["user"] == "U0BOB"
    assert "Only the person who asked for this access" in told.args["text"]
    assert [c for c in harness.slack.calls[mark:] if c.method == "views.open"] == []
    await harness.click(BOB, ids.DONE, request_id)  # Bob owns the integration: he may revoke
    mark = harness.slack.mark()
    await harness.click(CAROL, ids.REVEAL_PASSWORD, request_id)
    refused = await harness.slack.wait_for("chat.postEphemeral", since=mark)
    assert "Only the person who asked for this access" in refused.args["text"]
    assert "pw-" not in str([c.args for c in harness.slack.calls[mark:]])


@pytest.fixture
async def reasoned(
    slack: FakeSlack, sqlite_url: str, encryption_key: str
) -> AsyncIterator[Harness]:
    flows = [{**BASE_CONFIG["access_flows"][0], "require_approval_reason": True}]
    config = slack_config(slack, sqlite_url, access_flows=flows)
    started = await start_harness(slack, sqlite_url, encryption_key, config=config)
    try:
        yield started
    finally:
        await started.close()


async def test_approve_opens_a_reason_modal_when_the_flow_requires_one(reasoned: Harness) -> None:
    harness = reasoned
    request_id = await pending_request(harness)
    mark = harness.slack.mark()
    await harness.click(CAROL, ids.APPROVE, request_id, message=harness.dm_with(CAROL, request_id))
    opened = await harness.slack.wait_for("views.open", since=mark)
    modal_id = opened.response["view"]["id"]
    assert harness.view(modal_id)["callback_id"] == ids.APPROVE_REASON
    assert await harness.status(request_id) is Status.PENDING
    await harness.submit(CAROL, modal_id, {ids.REASON_INPUT: "ticket OPS-12"})
    assert await harness.status(request_id) is Status.APPROVED
    await harness.run_jobs()
    bob_copy = harness.dm_with(BOB, request_id)
    assert "Approved by Carol Lin at" in shown(bob_copy) and "ticket OPS-12" in shown(bob_copy)


async def test_a_failed_grant_tells_the_requester_and_alerts_the_owners(harness: Harness) -> None:
    harness.atlas.failures.append(IntegrationError("project quota reached", retryable=False))
    request_id = await pending_request(harness)
    await harness.click(BOB, ids.APPROVE, request_id, message=harness.dm_with(BOB, request_id))
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.FAILED
    assert "Granting failed: project quota reached" in shown(
        harness.dm_with(ALICE, "could not be granted")
    )
    for owner in (BOB, CAROL):  # the integration owners (group dba)
        alert = harness.dm_with(owner, "Gatepass needs attention")
        assert "project quota reached" in shown(alert) and request_id in shown(alert)
