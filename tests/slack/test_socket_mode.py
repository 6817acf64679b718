"""With ``slack.app_token`` set, the same app runs over Socket Mode: no HTTP route, a command
handled end to end over the local WebSocket fake."""

from __future__ import annotations

import asyncio

from bot.slack import ids
from tests.fakes.slack import FakeSlack, slash_command
from tests.fakes.slack_socket import FakeSocketMode
from tests.slack.harness import slack_config, start_harness


async def test_a_command_over_socket_mode_opens_the_modal(
    slack: FakeSlack, socket_mode: FakeSocketMode, sqlite_url: str, encryption_key: str
) -> None:
    config = slack_config(slack, sqlite_url)
    config["slack"]["app_token"] = "env:SLACK_APP_TOKEN"
    harness = await start_harness(
        slack,
        sqlite_url,
        encryption_key,
        config=config,
        environ={"SLACK_APP_TOKEN": slack.app_token},
    )
    try:
        await socket_mode.wait_connected()
        assert harness.gatepass.platforms["slack"] == "ready"
        # Over Socket Mode nothing listens on HTTP: /slack/events is not mounted.
        async with harness.session.post(harness.url, data=b"") as response:
            assert response.status in (404, 405)
        trigger = slack.new_trigger_id(user_id="U0ALICE")
        envelope = await socket_mode.push_request(
            slash_command(user_id="U0ALICE", trigger_id=trigger)
        )
        assert await socket_mode.wait_for_ack(envelope) == {"envelope_id": envelope}
        opened = await slack.wait_for("views.open")
        assert opened["trigger_id"] == trigger
        view_id = opened.response["view"]["id"]
        await slack.wait_for("views.update", lambda c: c["view_id"] == view_id)
        assert slack.views[view_id]["callback_id"] == ids.REQUEST_SUBMIT
    finally:
        await harness.close()
    assert socket_mode.connections == []  # closed at shutdown


async def test_a_wrong_app_token_leaves_slack_out(
    slack: FakeSlack, socket_mode: FakeSocketMode, sqlite_url: str, encryption_key: str
) -> None:
    config = slack_config(slack, sqlite_url)
    config["slack"]["app_token"] = "env:SLACK_APP_TOKEN"
    harness = await start_harness(
        slack, sqlite_url, encryption_key, config=config, environ={"SLACK_APP_TOKEN": "xapp-bad"}
    )
    try:
        await slack.wait_for("apps.connections.open", include_failed=True)
        for _ in range(200):  # the background task records the failure right after the call
            if harness.gatepass.platforms["slack"] != "ready":
                break
            await asyncio.sleep(0.005)
        assert harness.gatepass.platforms["slack"] == (
            "left out: Socket Mode did not connect (invalid_auth)"
        )
        assert socket_mode.connects == 0
    finally:
        await harness.close()


def socket_config(slack: FakeSlack, sqlite_url: str) -> dict:
    config = slack_config(slack, sqlite_url)
    config["slack"]["app_token"] = "env:SLACK_APP_TOKEN"
    return config


async def readiness_of_the_socket(harness) -> dict:
    _ready, body = await harness.gatepass.readiness.report()
    return body["checks"]["slack socket mode"]


async def test_socket_mode_reconnects_after_slack_drops_it(
    slack: FakeSlack, socket_mode: FakeSocketMode, sqlite_url: str, encryption_key: str
) -> None:
    harness = await start_harness(
        slack,
        sqlite_url,
        encryption_key,
        config=socket_config(slack, sqlite_url),
        environ={"SLACK_APP_TOKEN": slack.app_token},
    )
    try:
        await socket_mode.wait_connected()
        for _ in range(100):  # the supervisor sees the connection up shortly after the hello
            if (await readiness_of_the_socket(harness))["status"] == "ready":
                break
            await asyncio.sleep(0.05)
        assert (await readiness_of_the_socket(harness))["status"] == "ready"
        await socket_mode.drop()
        await socket_mode.wait_connected(connects=2, timeout=15)
        for _ in range(100):
            if (await readiness_of_the_socket(harness))["status"] == "ready":
                break
            await asyncio.sleep(0.05)
        assert (await readiness_of_the_socket(harness))["status"] == "ready"
        envelope = await socket_mode.push_request(slash_command(user_id="U0ALICE", text="help"))
        assert (await socket_mode.wait_for_ack(envelope))["envelope_id"] == envelope
    finally:
        await harness.close()


async def test_a_refused_first_connection_is_tried_again(
    slack: FakeSlack, socket_mode: FakeSocketMode, sqlite_url: str, encryption_key: str
) -> None:
    slack.fail_next("apps.connections.open", error="internal_error", n=1)
    harness = await start_harness(
        slack,
        sqlite_url,
        encryption_key,
        config=socket_config(slack, sqlite_url),
        environ={"SLACK_APP_TOKEN": slack.app_token},
    )
    try:
        await slack.wait_for("apps.connections.open", include_failed=True)
        for _ in range(200):
            if harness.gatepass.platforms["slack"] != "ready":
                break
            await asyncio.sleep(0.005)
        assert harness.gatepass.platforms["slack"] == (
            "left out: Socket Mode did not connect (internal_error)"
        )
        assert (await readiness_of_the_socket(harness))["status"] == "not ready"
        await socket_mode.wait_connected(timeout=10)  # after a backoff of 0.5-1 s
        assert len(slack.calls_to("apps.connections.open", include_failed=True)) == 2
        for _ in range(100):
            if harness.gatepass.platforms["slack"] == "ready":
                break
            await asyncio.sleep(0.05)
        assert harness.gatepass.platforms["slack"] == "ready"
    finally:
        await harness.close()
