"""The password reaches exactly one place: the invoke response of the requester's Reveal.
Not an activity or update through the connector, not a log line (at DEBUG, SDKs included)."""

from __future__ import annotations

import logging

import pytest

from tests.teams.harness import (
    ALICE,
    BOB,
    PASSWORD_MARK,
    TeamsHarness,
    card_text,
    submit_request,
)


async def test_the_password_is_only_in_the_reveal_response(
    teams: TeamsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for member in (ALICE, BOB):
        assert await teams.install(member) == 201
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()
    await teams.click(BOB, "approval.approve", {"request": request_id})
    await teams.run_jobs()

    revealed = await teams.click(ALICE, "password.reveal", {"request": request_id})
    [password] = [w for w in card_text(revealed).split() if w.startswith(PASSWORD_MARK)]
    await teams.click(ALICE, "password.hide", {"request": request_id})
    teams.clock.advance(minutes=61)
    await teams.run_jobs()

    assert password not in teams.everything_sent()
    assert all(password not in record.getMessage() for record in caplog.records)
    assert all(password not in str(record.args) for record in caplog.records)
    assert password not in caplog.text
