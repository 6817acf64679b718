"""The bolt app from ``build_bolt_app``, mounted on aiohttp, receiving real signed requests."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp

from tests.fakes.slack import (
    FakeSlack,
    SlackRequest,
    block_actions,
    block_suggestion,
    event_callback,
    post,
    shortcut,
    sign,
    slash_command,
    url_verification,
    view_submission,
)
from tests.slack_plumbing.conftest import SIGNING_SECRET, Served


def record_command(served: Served) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @served.app.command("/gatepass")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        seen.append(command)

    return seen


async def send(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> aiohttp.ClientResponse:
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response


async def test_a_signed_command_is_acked_before_its_listener_finishes(
    served: Served, session: aiohttp.ClientSession, slack: FakeSlack
) -> None:
    release, finished = asyncio.Event(), asyncio.Event()
    seen: list[dict[str, Any]] = []

    @served.app.command("/gatepass")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack()
        seen.append(command)
        await release.wait()  # the slow part (use cases, Slack calls) runs after the ack
        finished.set()

    started = time.monotonic()
    response = await post(session, served.url, slash_command(text="help"), secret=SIGNING_SECRET)
    assert response.status == 200
    assert time.monotonic() - started < 1.0
    assert not finished.is_set()
    assert seen[0]["text"] == "help" and seen[0]["user_id"] == "U0ALICE"
    release.set()
    await asyncio.wait_for(finished.wait(), 2)
    # bolt authorized the request with auth.test, against the fake: api_url is wired through.
    assert (await slack.wait_for("auth.test")).token == slack.bot_token


async def test_a_forged_signature_is_refused(
    served: Served, session: aiohttp.ClientSession
) -> None:
    seen = record_command(served)
    request = slash_command(text="forged")
    headers = request.headers(secret="not-the-signing-secret")
    response = await send(session, served.url, request.body, headers)
    assert response.status == 401
    assert seen == []


async def test_a_tampered_body_is_refused(served: Served, session: aiohttp.ClientSession) -> None:
    seen = record_command(served)
    signed = slash_command(text="read")
    headers = signed.headers(secret=SIGNING_SECRET)
    tampered = slash_command(text="readWrite", user_id="U0BOB").body
    assert (await send(session, served.url, tampered, headers)).status == 401
    assert seen == []


@pytest.mark.parametrize("skew", [-301, 301, -3600])
async def test_a_timestamp_more_than_five_minutes_away_is_refused(
    served: Served, session: aiohttp.ClientSession, skew: int
) -> None:
    seen = record_command(served)
    stamp = int(time.time()) + skew
    response = await post(
        session, served.url, slash_command(), secret=SIGNING_SECRET, timestamp=stamp
    )
    assert response.status == 401
    assert seen == []


async def test_a_replayed_request_is_refused(
    served: Served, session: aiohttp.ClientSession
) -> None:
    """A request captured long ago fails as stale, and re-stamping it breaks its signature."""
    seen = record_command(served)
    captured = slash_command(text="replayed")
    old = int(time.time()) - 600
    old_headers = captured.headers(secret=SIGNING_SECRET, timestamp=old)
    assert (await send(session, served.url, captured.body, old_headers)).status == 401
    restamped = {**old_headers, "X-Slack-Request-Timestamp": str(int(time.time()))}
    assert (await send(session, served.url, captured.body, restamped)).status == 401
    assert seen == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=00"},
    ],
)
async def test_missing_or_malformed_signature_headers_are_refused(
    served: Served, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    seen = record_command(served)
    request = slash_command()
    response = await send(
        session, served.url, request.body, {"Content-Type": request.content_type, **headers}
    )
    assert response.status == 401
    assert seen == []


async def test_sign_matches_slacks_documented_example() -> None:
    """The example from Slack's "Verifying requests from Slack" guide."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&"
        b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F"
        b"96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = sign(body, "8f742231b10e8888abcd99yyyzzz85a5", 1531420618)
    assert headers == {
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "X-Slack-Request-Timestamp": "1531420618",
    }


def _register_listeners(app: AsyncApp) -> dict[str, Any]:
    """A listener of each kind on ``app``; what they saw, by kind, fills the returned dict."""
    seen: dict[str, Any] = {}

    @app.shortcut("request_access")
    async def on_shortcut(ack: Any, shortcut: dict[str, Any], client: Any) -> None:
        await ack()
        title = {"type": "plain_text", "text": "Request access"}
        view = {"type": "modal", "title": title, "blocks": [{"type": "divider"}]}
        seen["opened"] = await client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    @app.action("approve")
    async def on_approve(ack: Any, action: dict[str, Any]) -> None:
        await ack()
        seen["approve"] = action["value"]

    @app.view("request_submit")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        await ack(response_action="errors", errors={"justification": "Say why"})
        seen["submitted"] = view["private_metadata"]

    @app.options("resource_select")
    async def on_options(ack: Any, payload: dict[str, Any]) -> None:
        option = {"text": {"type": "plain_text", "text": "analytics"}, "value": "db:analytics"}
        await ack(options=[option] if payload["value"] == "ana" else [])

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any]) -> None:
        seen["home"] = event["user"]

    return seen


async def _deliver(
    served: Served, session: aiohttp.ClientSession, request: SlackRequest
) -> aiohttp.ClientResponse:
    async with session.post(
        served.url, data=request.body, headers=request.headers(secret=SIGNING_SECRET)
    ) as response:
        await response.read()
        return response


async def _shortcut_and_action_are_acked(
    served: Served, session: aiohttp.ClientSession, slack: FakeSlack
) -> None:
    """The shortcut's listener opens a view with the bot token; the action is acked."""
    trigger = slack.new_trigger_id(user_id="U0ALICE")
    assert (await _deliver(served, session, shortcut(trigger_id=trigger))).status == 200
    opened = await slack.wait_for("views.open")
    assert opened["trigger_id"] == trigger and opened.token == slack.bot_token

    approve = block_actions(action_id="approve", value="req-7")
    assert (await _deliver(served, session, approve)).status == 200


async def _submission_and_options_are_answered_in_the_response(
    served: Served, session: aiohttp.ClientSession
) -> None:
    """A view submission's errors and an options request's options come back in the body."""
    submitted = view_submission(callback_id="request_submit", private_metadata="req-8")
    async with session.post(
        served.url, data=submitted.body, headers=submitted.headers(secret=SIGNING_SECRET)
    ) as response:
        assert response.status == 200
        assert await response.json() == {
            "response_action": "errors",
            "errors": {"justification": "Say why"},
        }

    suggestion = block_suggestion(action_id="resource_select", value="ana")
    async with session.post(
        served.url, data=suggestion.body, headers=suggestion.headers(secret=SIGNING_SECRET)
    ) as response:
        assert (await response.json())["options"][0]["value"] == "db:analytics"


async def _event_is_acked_and_url_verification_answered(
    served: Served, session: aiohttp.ClientSession
) -> None:
    event = event_callback({"type": "app_home_opened", "user": "U0BOB", "tab": "home"})
    assert (await _deliver(served, session, event)).status == 200

    challenge = url_verification("c-123")
    async with session.post(
        served.url, data=challenge.body, headers=challenge.headers(secret=SIGNING_SECRET)
    ) as response:
        assert json.loads(await response.text()) == {"challenge": "c-123"}


async def _until_every_listener_ran(seen: dict[str, Any]) -> None:
    """Wait (up to about a second) for the listeners that run after their ack."""
    for _ in range(100):
        if {"opened", "approve", "submitted", "home"} <= seen.keys():
            break
        await asyncio.sleep(0.01)


async def test_interactions_events_and_options_reach_their_listeners(
    served: Served, session: aiohttp.ClientSession, slack: FakeSlack
) -> None:
    seen = _register_listeners(served.app)
    await _shortcut_and_action_are_acked(served, session, slack)
    await _submission_and_options_are_answered_in_the_response(served, session)
    await _event_is_acked_and_url_verification_answered(served, session)
    await _until_every_listener_ran(seen)
    assert seen["approve"] == "req-7" and seen["submitted"] == "req-8" and seen["home"] == "U0BOB"
    assert seen["opened"]["view"]["id"] in slack.views.views


async def test_respond_reaches_the_fake_response_url(
    served: Served, session: aiohttp.ClientSession, slack: FakeSlack
) -> None:
    @served.app.command("/gatepass")
    async def command(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="Your request was sent", replace_original=False)

    request = slash_command(response_url=slack.response_url())
    assert (await post(session, served.url, request, secret=SIGNING_SECRET)).status == 200
    answer = await slack.wait_for("response_url")
    assert answer["text"] == "Your request was sent"
