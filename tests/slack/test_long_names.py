"""A 10,000-character display name is cut short once, in core: the Slack messages about that
person's decision still show its time and its reason, and every message fits Block Kit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.slack import ids
from core.domain.sentences import MAX_NAME
from tests.fakes.slack import FakeSlack
from tests.slack.harness import Harness, shown, slack_config, start_harness
from tests.slack.test_scenario import submit_request
from tests.support.long_names import DECIDED_AT, LONG_NAME, directory_with_a_long_name

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


@pytest.fixture
async def long_named(
    slack: FakeSlack, sqlite_url: str, encryption_key: str
) -> AsyncIterator[Harness]:
    config = slack_config(slack, sqlite_url, directory=directory_with_a_long_name())
    started = await start_harness(slack, sqlite_url, encryption_key, config=config)
    try:
        yield started
    finally:
        await started.close()


async def test_the_decision_time_and_reason_stay_visible(long_named: Harness) -> None:
    harness = long_named
    request_id = await submit_request(harness)
    await harness.run_jobs()
    assert LONG_NAME[:MAX_NAME] not in shown(harness.dm_with(ALICE, request_id))
    mark = harness.slack.mark()
    await harness.click(BOB, ids.DENY, request_id, message=harness.dm_with(BOB, request_id))
    opened = await harness.slack.wait_for("views.open", since=mark)
    await harness.submit(BOB, opened.response["view"]["id"], {ids.REASON_INPUT: "use the replica"})
    await harness.run_jobs()

    cut = LONG_NAME[: MAX_NAME - 1] + "…"
    for message in (harness.dm_with(CAROL, request_id), harness.dm_with(ALICE, "Denied by")):
        text = shown(message)
        assert f"Denied by {cut} at {DECIDED_AT}" in text
        assert "*Reason:* use the replica" in text
        assert LONG_NAME[:MAX_NAME] not in text
    failed = [c for c in harness.slack.calls if not c.ok and c.method != "response_url"]
    assert failed == []
