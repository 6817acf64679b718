"""The bot's Web API client (``build_web_client``) against the fake Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import bolt_app_from_settings, build_bolt_app, build_web_client
from core.config.schema import SlackConfig
from core.config.secrets import SecretValue
from core.config.settings import SlackSecrets
from tests.fakes.slack import FakeSlack


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return build_web_client(token=slack.bot_token, api_url=slack.api_url, retry_jitter=0)


async def refusal(call: object) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_post_then_update_a_message(slack: FakeSlack, client: AsyncWebClient) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "*Pending*"}}
    posted = await client.chat_postMessage(channel="U0ALICE", text="pending", blocks=[section])
    channel, ts = posted["channel"], posted["ts"]
    assert channel == slack.dm_channel("U0ALICE") == "D0ALICE"

    updated = await client.chat_update(channel=channel, ts=ts, text="Approved by Bob", blocks=[])
    assert updated["ts"] == ts
    message = slack.message(channel, ts)
    assert message["text"] == "Approved by Bob" and message["blocks"] == []
    assert message["edited"]["user"] == slack.bot_user_id

    call = await slack.wait_for("chat.update", lambda c: c["ts"] == ts)
    assert call["channel"] == channel and call.token == slack.bot_token


async def test_update_keeps_blocks_it_was_not_given(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    section = {"type": "section", "text": {"type": "plain_text", "text": "kept"}}
    posted = await client.chat_postMessage(channel="U0BOB", text="t", blocks=[section])
    await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="new")
    assert slack.message(posted["channel"], posted["ts"])["blocks"] == [section]


async def test_updating_a_message_that_does_not_exist_fails(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="U0ALICE", text="hello")
    error = await refusal(client.chat_update(channel=posted["channel"], ts="1.000001", text="x"))
    assert error.response.status_code == 200
    assert error.response["error"] == "message_not_found"
    error = await refusal(client.chat_update(channel="C0NOPE", ts=posted["ts"], text="x"))
    assert error.response["error"] == "channel_not_found"


async def test_a_429_is_retried_after_retry_after(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.rate_limit(1, retry_after=0)
    posted = await client.chat_postMessage(channel="U0ALICE", text="after a 429")
    assert posted["ok"]
    attempts = slack.calls_to("chat.postMessage", include_failed=True)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].response == {"ok": False, "error": "ratelimited"}


async def test_retry_after_is_honoured(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.rate_limit(1, retry_after=1, method="users.info")
    started = time.monotonic()
    answer = await client.users_info(user="U0BOB")
    assert 1.0 <= time.monotonic() - started < 2.0
    assert answer["user"]["profile"]["email"] == "Bob@Example.com"


async def test_a_long_retry_after_fails_fast_for_the_caller_to_retry(slack: FakeSlack) -> None:
    client = build_web_client(token=slack.bot_token, api_url=slack.api_url, max_retry_after=5)
    slack.rate_limit(1, retry_after=120)
    started = time.monotonic()
    error = await refusal(client.chat_postMessage(channel="U0ALICE", text="x"))
    assert time.monotonic() - started < 1.0
    assert error.response.status_code == 429 and error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "120"


async def test_rate_limits_give_up_after_the_retry_budget(slack: FakeSlack) -> None:
    client = build_web_client(
        token=slack.bot_token, api_url=slack.api_url, rate_limit_retries=1, retry_jitter=0
    )
    slack.rate_limit(5, retry_after=0)
    error = await refusal(client.auth_test())
    assert error.response["error"] == "ratelimited"
    assert len(slack.calls_to("auth.test", include_failed=True)) == 2


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-wrong", "invalid_auth"), ("xapp-1-gatepass-test", "not_allowed_token_type")],
)
async def test_a_wrong_token_is_refused(slack: FakeSlack, token: str, error: str) -> None:
    client = build_web_client(token=token, api_url=slack.api_url)
    refused = await refusal(client.chat_postMessage(channel="U0ALICE", text="x"))
    assert refused.response.status_code == 200 and refused.response["error"] == error
    assert slack.messages == {}


async def test_no_token_is_not_authed(slack: FakeSlack) -> None:
    client = AsyncWebClient(base_url=slack.api_url)
    assert (await refusal(client.auth_test())).response["error"] == "not_authed"


async def test_blocks_over_slack_limits_are_invalid(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    error = await refusal(
        client.chat_postMessage(channel="U0ALICE", text="t", blocks=[long_section])
    )
    assert error.response["error"] == "invalid_blocks"
    assert error.response["errors"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    divider = {"type": "divider"}
    error = await refusal(
        client.chat_postMessage(channel="U0ALICE", text="t", blocks=[divider] * 51)
    )
    assert error.response["errors"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    button = {
        "type": "button",
        "action_id": "approve",
        "text": {"type": "plain_text", "text": "y" * 76},
    }
    actions = {"type": "actions", "elements": [button]}
    error = await refusal(client.chat_postMessage(channel="U0ALICE", text="t", blocks=[actions]))
    assert error.response["errors"] == [
        "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"
    ]
    assert slack.messages == {}


async def test_people_and_conversations(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.conversations_open(users="U0BOB")
    assert opened["channel"]["id"] == "D0BOB"
    info = await client.users_info(user="U0ALICE")
    assert info["user"]["profile"]["email"] == "alice@example.com"
    assert info["user"]["real_name"] == "Alice Adams"
    found = await client.users_lookupByEmail(email="bob@example.com")
    assert found["user"]["id"] == "U0BOB"
    assert (await refusal(client.users_info(user="U0NOBODY"))).response["error"] == "user_not_found"
    missing = await refusal(client.users_lookupByEmail(email="eve@example.com"))
    assert missing.response["error"] == "users_not_found"
    refused = await refusal(client.conversations_open(users="U0NOBODY"))
    assert refused.response["error"] == "user_not_found"


async def test_ephemeral_messages(slack: FakeSlack, client: AsyncWebClient) -> None:
    answer = await client.chat_postEphemeral(channel="D0ALICE", user="U0ALICE", text="only you")
    assert slack.ephemerals == [
        {"channel": "D0ALICE", "user": "U0ALICE", "ts": answer["message_ts"], "text": "only you"}
    ]


async def test_wait_for_waits_for_what_comes_later(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    mark = slack.mark()

    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="U0BOB", text="for bob")

    task = asyncio.create_task(later())
    call = await slack.wait_for("chat.postMessage", lambda c: c["text"] == "for bob", since=mark)
    assert call.response["channel"] == "D0BOB"
    await task
    with pytest.raises(AssertionError, match="did not arrive"):
        await slack.wait_for("chat.postMessage", lambda c: c["text"] == "never", timeout=0.05)


async def test_injected_failures(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", error="channel_is_archived")
    assert (await refusal(client.chat_postMessage(channel="U0ALICE", text="x"))).response[
        "error"
    ] == "channel_is_archived"
    assert (await client.chat_postMessage(channel="U0ALICE", text="x"))["ok"]


async def test_form_encoded_arguments_like_any_slack_client(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "from a form"}}]
    data = {"channel": "U0ALICE", "text": "form", "blocks": json.dumps(blocks)}
    posted = await client.api_call("chat.postMessage", data=data)
    assert slack.message(posted["channel"], posted["ts"])["blocks"] == blocks


def test_the_bolt_app_from_settings_uses_the_configured_api_url() -> None:
    config = SlackConfig.model_validate(
        {
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": "http://127.0.0.1:9/api",
        }
    )
    secrets = SlackSecrets(
        bot_token=SecretValue("xoxb-from-env"),
        signing_secret=SecretValue("signing"),
        app_token=None,
    )
    app = bolt_app_from_settings(config, secrets)
    assert app.client.base_url == "http://127.0.0.1:9/api/"
    assert app.client.token == "xoxb-from-env"
    assert [type(h).__name__ for h in app.client.retry_handlers] == [
        "RateLimitRetryHandler",
        "AsyncConnectionErrorRetryHandler",
    ]
    with pytest.raises(ValueError, match="signing secret"):
        build_bolt_app(bot_token="xoxb-x", signing_secret=" ", api_url="http://127.0.0.1:9/")


def test_a_token_in_the_environment_is_not_warned_about_at_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``bot_token: env:SLACK_BOT_TOKEN`` is the usual config; bolt reads that variable too and
    would warn at every start that it is unused. The app's client holds the token."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    with caplog.at_level(logging.DEBUG):
        app = build_bolt_app(
            bot_token="xoxb-from-env", signing_secret="signing", api_url="http://127.0.0.1:9/"
        )
    assert app.client.token == "xoxb-from-env"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    app.logger.warning("still heard after the start")
    assert "still heard after the start" in caplog.text
