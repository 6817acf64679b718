"""When a listener fails in a way nobody planned for, the person is told privately, with a
reference the log repeats next to the traceback; nothing is left half done."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from bot.slack import ids
from core.domain.lifecycle import Status
from tests.slack.harness import Harness
from tests.slack.test_paths import pending_request

BOB = "U0BOB"
REFERENCE = re.compile(r"Something went wrong in Gatepass \(reference `([0-9a-f]{8})`\)")


async def break_the_database(harness: Harness) -> None:
    """A table the request views read goes missing, as a botched migration would leave it."""
    async with harness.ctx.store.transaction() as session:
        await session.execute(sa.text("ALTER TABLE grants RENAME TO grants_elsewhere"))


async def test_an_unexpected_failure_is_told_with_a_reference_that_is_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = await pending_request(harness)
    await break_the_database(harness)
    caplog.set_level(logging.ERROR)
    reply = await harness.click(
        BOB, ids.APPROVE, request_id, message=harness.dm_with(BOB, request_id)
    )
    assert reply.status == 200  # acked before the failure
    (note,) = harness.private_notes(BOB)
    found = REFERENCE.search(note)
    assert found, note
    [logged] = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    async with harness.ctx.store.transaction() as session:
        await session.execute(sa.text("ALTER TABLE grants_elsewhere RENAME TO grants"))
    assert await harness.status(request_id) is Status.PENDING
    assert await harness.count("decisions") == 0
