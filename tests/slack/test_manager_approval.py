"""A request from Slack under ``approvers: manager`` goes to the requester's manager, who
approves it from their DM."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.slack import ids
from core.domain.lifecycle import Status
from tests.fakes.slack import FakeSlack
from tests.slack.harness import Harness, buttons, shown, slack_config, start_harness
from tests.slack.test_scenario import ALICE, BOB, CAROL
from tests.support.managers import manager_changes

DAVE = "U0DAVE"


@pytest.fixture
async def managed(slack: FakeSlack, sqlite_url: str, encryption_key: str) -> AsyncIterator[Harness]:
    config = slack_config(slack, sqlite_url, **manager_changes())
    started = await start_harness(slack, sqlite_url, encryption_key, config=config)
    try:
        yield started
    finally:
        await started.close()


async def test_the_manager_is_asked_and_approves(managed: Harness) -> None:
    harness = managed
    view_id = await harness.open_request_modal(ALICE)
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    await harness.choose(ALICE, view_id, ids.PERMISSION_SELECT, "read")
    preview = shown(harness.view(view_id))
    assert "Dave Kim" in preview and "manager of Alice Doe" in preview
    assert "Bob Ray" not in preview
    await harness.choose(ALICE, view_id, ids.DURATION_SELECT, "1h")
    reply = await harness.submit(ALICE, view_id, {ids.JUSTIFICATION_INPUT: "quarterly report"})
    assert reply.status == 200 and reply.json() is None
    (request_id,) = await harness.request_ids()
    view = await harness.view_of(request_id)
    assert [(a.email, a.reason) for a in view.approvers] == [
        ("dave@example.com", "manager of Alice Doe")
    ]

    await harness.run_jobs()
    ask = harness.dm_with(DAVE, "quarterly report")
    assert "Why you: manager of Alice Doe" in shown(ask)
    assert buttons(ask) == {ids.APPROVE: request_id, ids.DENY: request_id}
    assert not harness.dm(BOB) and not harness.dm(CAROL)  # the owners are not asked

    assert (await harness.click(DAVE, ids.APPROVE, request_id, message=ask)).status == 200
    assert await harness.status(request_id) is Status.APPROVED
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.ACTIVE
    assert "Approved by Dave Kim" in shown(harness.dm_with(ALICE, "approved"))
    assert harness.atlas.accounts
