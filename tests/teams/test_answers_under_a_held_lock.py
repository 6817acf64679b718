"""Teams is answered before any database write: with another client holding the database's
write locks, a submitted request form and an approval are answered within a second (the
request is stored, the decision recorded, once the lock is free) and any other card action
that waits on the database is answered with a "working on it" card that its outcome replaces."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.teams.install import install
from bot.teams.late import ANSWER_WITHIN
from core.domain.lifecycle import Status
from core.storage.models import AccessRequest
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.support.clock import ManualClock
from tests.support.locks import writers_held
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    TeamsHarness,
    card_text,
    form_data,
    request_id_in,
    start_gatepass,
    submit_request,
    teams_settings,
)

WITHIN = 1.0
GIVE_UP = 5.0


@pytest.fixture
async def teams_on(
    database_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
    channel: FakeTeamsChannel,
) -> AsyncIterator[TeamsHarness]:
    settings = teams_settings(
        database_url=database_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=token_endpoint,
    )
    clock, atlas = ManualClock(), MemoryIntegration("prod-atlas")
    gatepass, runner, base_url = await start_gatepass(
        settings, clock=clock, atlas=atlas, platforms=[install]
    )
    harness = TeamsHarness(gatepass, clock, atlas, connector, channel, base_url)
    harness.late.within = ANSWER_WITHIN  # as in production: these tests are about it
    for member in (ALICE, BOB, CAROL):
        assert await harness.install(member) == 201
    yield harness
    await runner.cleanup()


async def answered(teams: TeamsHarness, activity: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    try:  # an answer that waits for the lock would wait for ever: give up well after WITHIN
        status, body = await asyncio.wait_for(teams.post(activity), GIVE_UP)
    except TimeoutError:
        pytest.fail(f"no answer within {GIVE_UP}s while another client holds the lock")
    assert status == 200, (status, body)
    return time.monotonic() - started, body


async def status_of(teams: TeamsHarness, request_id: str) -> Status | None:
    async with teams.ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    return None if request is None else Status(request.status)


async def test_a_submitted_form_is_answered_then_stored(
    teams_on: TeamsHarness, database_url: str
) -> None:
    submit = teams_on.channel.card_action(verb="form.submit", data=form_data(), user=ALICE)
    with writers_held(database_url):
        took, body = await answered(teams_on, submit)
        assert took < WITHIN, f"answered after {took:.2f}s"
        assert "Request sent" in card_text(body["value"])
        request_id = request_id_in(body["value"])
        assert await status_of(teams_on, request_id) is None  # stored once the lock is free
    await teams_on.settle()
    assert await status_of(teams_on, request_id) is Status.PENDING


async def test_an_approval_is_answered_then_recorded(
    teams_on: TeamsHarness, database_url: str
) -> None:
    request_id = await submit_request(teams_on, ALICE)
    await teams_on.run_jobs()
    card_id = "card-approval-under-lock"
    approve = teams_on.channel.card_action(
        verb="approval.approve", data={"request": request_id}, user=BOB, replyToId=card_id
    )
    with writers_held(database_url):
        took, body = await answered(teams_on, approve)
        assert took < WITHIN, f"answered after {took:.2f}s"
        assert "Recording your approval" in card_text(body["value"])
        assert await status_of(teams_on, request_id) is Status.PENDING
    await teams_on.settle()
    assert await status_of(teams_on, request_id) is Status.APPROVED
    late = await teams_on.connector.wait_for_update(lambda u: u.activity_id == card_id)
    assert f"You approved request {request_id}" in str(late.activity)


async def test_another_action_waiting_on_the_lock_is_answered_working_on_it(
    teams_on: TeamsHarness, database_url: str
) -> None:
    request_id = await submit_request(teams_on, ALICE)
    card_id = "card-cancel-under-lock"
    cancel = teams_on.channel.card_action(
        verb="request.cancel", data={"request": request_id}, user=ALICE, replyToId=card_id
    )
    with writers_held(database_url):
        took, body = await answered(teams_on, cancel)
        assert took < WITHIN, f"answered after {took:.2f}s"
        assert "Working on it" in card_text(body["value"])
    await teams_on.settle()
    assert await status_of(teams_on, request_id) is Status.CANCELLED
    late = await teams_on.connector.wait_for_update(lambda u: u.activity_id == card_id)
    assert "Working on it" not in str(late.activity)


async def test_a_refresh_is_answered_with_its_own_card_never_late(teams_on: TeamsHarness) -> None:
    """A refresh is one person's view of a posted card: were it delivered late, the Bot
    Connector would replace the card for everyone in the conversation. With no time at all
    for an action, a refresh still answers its own card and nothing replaces a card later,
    while a cancel is answered "working on it"."""
    request_id = await submit_request(teams_on, ALICE)
    teams_on.late.within = 0.0
    updates = len(teams_on.connector.updates)
    for verb, who in (("approval.refresh", BOB), ("form.refresh", ALICE)):
        refresh = teams_on.channel.card_action(
            verb=verb, data={"request": request_id}, user=who, replyToId=f"card-{verb}"
        )
        _, body = await answered(teams_on, refresh)
        assert "Working on it" not in card_text(body["value"]), (verb, body)
    cancel = teams_on.channel.card_action(
        verb="request.cancel", data={"request": request_id}, user=ALICE, replyToId="card-c"
    )
    _, body = await answered(teams_on, cancel)
    assert "Working on it" in card_text(body["value"])
    await teams_on.settle()
    assert [u.activity_id for u in teams_on.connector.updates[updates:]] == ["card-c"]
