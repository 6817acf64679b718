"""Installing the Teams edge (or not), dev mode on loopback, and deliveries that fail: core's
job retries them and nothing is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
import sqlalchemy as sa

from bot.app import build, health
from bot.teams.install import install
from core.config.schema import ConfigError, parse_config
from core.config.sections import ServerConfig
from core.config.settings import resolve_settings
from core.storage.models import Job, PostedMessage
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.support.clock import ManualClock
from tests.support.domain import config_with
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    TeamsHarness,
    card_text,
    serve_without_worker_loop,
    submit_request,
    teams_settings,
)


async def _status(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, json={}) as response:
        return response.status


async def test_without_a_teams_section_nothing_is_installed(
    sqlite_url: str, encryption_key: str
) -> None:
    data = config_with(database_url=sqlite_url, encryption_key="env:KEY")
    settings = resolve_settings(
        parse_config(data), config_path="t", environ={"KEY": encryption_key}
    )
    gatepass = await build(settings, platforms=[install], run_worker=False, migrate=False)
    runner, base = await serve_without_worker_loop(gatepass)
    try:
        assert gatepass.platforms["teams"].startswith("not configured")
        assert gatepass.notifiers == ()
        assert await _status(base + "/api/messages") in (404, 405)
    finally:
        await runner.cleanup()


async def test_missing_credentials_leave_teams_out(
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
) -> None:
    settings = teams_settings(
        database_url=sqlite_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=token_endpoint,
        environ={"TEAMS_APP_PASSWORD": ""},
    )
    assert settings.teams is None  # the empty secret left Teams out
    gatepass = await build(settings, platforms=[install], run_worker=False, migrate=False)
    try:
        assert gatepass.platforms["teams"] == health(gatepass)["platforms"]["teams"]
        assert health(gatepass)["platforms"]["teams"].startswith(
            "left out: variable TEAMS_APP_PASSWORD"
        )
        assert gatepass.notifiers == ()
    finally:
        await gatepass.ctx.store.close()


@pytest.fixture
async def dev_connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector(tokens=None) as server:
        server.add_member(ALICE)
        yield server


async def test_dev_mode_on_loopback_runs_without_tokens(
    sqlite_url: str, encryption_key: str, dev_connector: FakeBotConnector, openid: FakeOpenIdServer
) -> None:
    data = config_with(
        database_url=sqlite_url,
        encryption_key="env:KEY",
        server={"host": "127.0.0.1"},
        teams={"dev_mode": True},
    )
    settings = resolve_settings(
        parse_config(data), config_path="t", environ={"KEY": encryption_key}
    )
    gatepass = await build(
        settings,
        clock=ManualClock(),
        integrations={"prod-atlas": MemoryIntegration("prod-atlas")},
        platforms=[install],
        run_worker=False,
        migrate=False,
    )
    runner, base = await serve_without_worker_loop(gatepass)
    try:
        assert gatepass.platforms["teams"] == "ready"
        channel = FakeTeamsChannel(openid=openid, connector=dev_connector)
        status, _ = await channel.post(
            base + "/api/messages", channel.message("help", user=ALICE), token=None
        )
        assert status == 201
        reply = await dev_connector.wait_for_activity()
        assert "What Gatepass can do" in card_text(reply.attachments[0]["content"])
    finally:
        await runner.cleanup()


async def test_a_failed_delivery_is_retried_by_the_job(
    teams: TeamsHarness, token_endpoint: FakeTokenEndpoint
) -> None:
    for member in (ALICE, BOB, CAROL):
        assert await teams.install(member) == 201
    issued = set(token_endpoint.issued)
    token_endpoint.issued.clear()  # the connector now refuses the bot's token: 401
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()

    assert teams.connector.rejected > 0
    assert teams.sent_to(BOB) == [] or all(
        "Access request" not in card_text(c) for c in teams.cards_to(BOB)
    )
    async with teams.ctx.store.reading() as session:
        job = (
            await session.execute(
                sa.select(Job).where(Job.dedupe_key == f"approvers:{request_id}:0")
            )
        ).scalar_one()
        posted = list((await session.execute(sa.select(PostedMessage))).scalars())
    assert job.state == "queued" and job.attempts == 1
    assert "teams" in (job.last_error or "")
    assert posted == []

    token_endpoint.issued |= issued  # the connector accepts the bot again
    teams.clock.advance(timedelta(minutes=5))
    await teams.run_jobs()
    for approver in (BOB, CAROL):
        assert request_id in card_text(teams.current(teams.latest(approver, "Access request")))
    teams.connector.rejected = 0


async def test_dev_mode_is_refused_off_loopback(sqlite_url: str, encryption_key: str) -> None:
    data = config_with(
        database_url=sqlite_url,
        encryption_key="env:KEY",
        server={"host": "0.0.0.0"},
        teams={"dev_mode": True},
    )
    with pytest.raises(ConfigError, match="loopback"):  # the file is refused as it loads
        parse_config(data)
    on_loopback = parse_config({**data, "server": {"host": "127.0.0.1"}})
    settings = resolve_settings(on_loopback, config_path="t", environ={"KEY": encryption_key})
    # Settings changed after loading (as --host does) meet the same rule when the app is built.
    exposed = replace(
        settings,
        config=settings.config.model_copy(update={"server": ServerConfig(host="0.0.0.0")}),
    )
    with pytest.raises(SystemExit, match="loopback"):
        await build(exposed, platforms=[install], run_worker=False, migrate=False)


async def test_an_unexpected_failure_is_answered_not_leaked(
    teams: TeamsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken database (not a GatepassError): the invoke gets a 500 error body, a message
    gets an apology, the log has the error; no stack trace reaches the user."""
    async with teams.ctx.store.transaction() as session:
        await session.execute(sa.text("DROP TABLE chat_accounts"))
    status, body = await teams.post(
        teams.channel.card_action(verb="approval.refresh", data={"request": "R"}, user=BOB)
    )
    assert status == 500
    assert body == {
        "statusCode": 500,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "InternalError", "message": "Gatepass could not do that."},
    }
    assert await teams.say(BOB, "list") == 201
    [apology] = teams.sent_to(BOB)
    assert apology.text == "Sorry, Gatepass could not do that. Please try again."
    assert "OperationalError" in caplog.text
