"""Slack is answered before any database write: with another client holding the database's
write locks, a click, a modal submission (checked, with its field errors) and a delivery that
the cross-replica replay record has not answered yet are all acked within a second; what they
change happens once the lock is released, and a replay sent to another replica meanwhile
changes nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.slack import ids
from core.domain.lifecycle import Status
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.fakes.slack import FakeSlack, SlackRequest, block_actions, view_submission
from tests.slack.harness import SIGNING_SECRET, Harness, Reply, buttons, start_harness
from tests.support.locks import writers_held

ALICE, BOB = "U0ALICE", "U0BOB"
WITHIN = 1.0
GIVE_UP = 5.0
DRAFT = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")


@pytest.fixture
async def harness(
    slack: FakeSlack, database_url: str, encryption_key: str
) -> AsyncIterator[Harness]:
    started = await start_harness(slack, database_url, encryption_key)
    try:
        yield started
    finally:
        await started.close()


async def pending_with_its_ask(harness: Harness) -> tuple[str, SlackRequest]:
    """A pending request of Alice's, and the Approve click on Bob's DM about it."""
    view = await requests.submit(
        harness.ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
    )
    await harness.run_jobs()
    ask = harness.dm_with(BOB, view.id)
    assert buttons(ask)[ids.APPROVE] == view.id
    click = block_actions(
        action_id=ids.APPROVE,
        value=view.id,
        user_id=BOB,
        user_name=harness.user_name(BOB),
        channel_id=harness.slack.dm_channel(BOB),
        message_ts=str(ask["ts"]),
        trigger_id=harness.slack.new_trigger_id(user_id=BOB),
    )
    return view.id, click


async def timed(harness: Harness, body: bytes, headers: dict[str, str]) -> tuple[float, Reply]:
    started = time.monotonic()
    try:  # an ack that waits for the lock would wait for ever: give up well after WITHIN
        reply = await asyncio.wait_for(harness.send_raw(body, headers), GIVE_UP)
    except TimeoutError:
        pytest.fail(f"no answer within {GIVE_UP}s while another client holds the lock")
    return time.monotonic() - started, reply


async def test_a_click_is_acked_while_the_database_is_locked(
    harness: Harness, database_url: str
) -> None:
    request_id, click = await pending_with_its_ask(harness)
    with writers_held(database_url):
        took, reply = await timed(harness, click.body, click.headers(secret=SIGNING_SECRET))
        assert reply.status == 200, reply
        assert took < WITHIN, f"acked after {took:.2f}s"
        assert await harness.status(request_id) is Status.PENDING  # reads still go through
    await harness.settle(within=30)
    assert await harness.status(request_id) is Status.APPROVED


async def _filled_modal(harness: Harness) -> str:
    view_id = await harness.open_request_modal(ALICE)
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    await harness.choose(ALICE, view_id, ids.PERMISSION_SELECT, "read")
    await harness.choose(ALICE, view_id, ids.DURATION_SELECT, "1h")
    return view_id


def _submission(harness: Harness, view_id: str, justification: str) -> tuple[bytes, dict[str, str]]:
    view = harness.view(view_id)
    request = view_submission(
        callback_id=view["callback_id"],
        values=harness.state(view_id, {ids.JUSTIFICATION_INPUT: justification}),
        user_id=ALICE,
        user_name=harness.user_name(ALICE),
        private_metadata=view.get("private_metadata", ""),
        view_id=view_id,
    )
    return request.body, request.headers(secret=SIGNING_SECRET)


async def test_a_submitted_request_is_acked_then_stored(
    harness: Harness, database_url: str
) -> None:
    view_id = await _filled_modal(harness)
    body, headers = _submission(harness, view_id, "quarterly report")
    with writers_held(database_url):
        took, reply = await timed(harness, body, headers)
        assert took < WITHIN, f"acked after {took:.2f}s"
        assert reply.status == 200 and reply.json() is None, reply
        assert await harness.request_ids() == []  # stored after the ack, once the lock is free
    await harness.settle(within=30)
    (request_id,) = await harness.request_ids()
    assert await harness.status(request_id) is Status.PENDING


async def test_field_errors_come_back_while_the_database_is_locked(
    harness: Harness, database_url: str
) -> None:
    view_id = await _filled_modal(harness)
    body, headers = _submission(harness, view_id, "")  # the flow requires a justification
    with writers_held(database_url):
        took, reply = await timed(harness, body, headers)
        assert took < WITHIN, f"answered after {took:.2f}s"
        answer = reply.json()
        assert answer["response_action"] == "errors", answer
        assert "justification" in str(answer["errors"]).lower()
    await harness.settle(within=30)
    assert await harness.request_ids() == []


async def test_a_replay_to_another_replica_while_locked_changes_nothing(
    harness: Harness, slack: FakeSlack, database_url: str, encryption_key: str
) -> None:
    request_id, click = await pending_with_its_ask(harness)
    other = await start_harness(slack, database_url, encryption_key)
    try:
        headers = click.headers(secret=SIGNING_SECRET)
        with writers_held(database_url):
            first, to_a = await timed(harness, click.body, headers)
            second, _ = await timed(other, click.body, headers)
            assert max(first, second) < WITHIN, (first, second)
            assert to_a.status == 200, to_a
        await harness.settle(within=30)
        await other.settle(within=30)
        assert await harness.status(request_id) is Status.APPROVED
        assert await harness.count("decisions") == 1
        again, _ = await timed(other, click.body, headers)
        assert again < WITHIN
        assert await harness.count("decisions") == 1
    finally:
        await other.close()
