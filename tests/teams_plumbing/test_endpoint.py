"""Authenticated turns over real HTTP: messages, Action.Execute invokes, proactive calls."""

from __future__ import annotations

import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeAction,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    ConversationParameters,
)
from botframework.connector.models import ErrorResponseException

from bot.teams.endpoint import CARD_CONTENT_TYPE, TeamsEndpoint, parse_card_action
from tests.fakes.teams import (
    APP_ID,
    TENANT_ID,
    FakeBotConnector,
    FakeOpenIdServer,
    FakeTokenEndpoint,
)
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.teams_plumbing.conftest import ALICE, RecordingBot


async def test_message_runs_the_bot_and_the_reply_reaches_the_connector(
    channel: FakeTeamsChannel,
    bot_url: str,
    bot: RecordingBot,
    connector: FakeBotConnector,
    token_endpoint: FakeTokenEndpoint,
) -> None:
    activity = channel.message("hello", user=ALICE)

    status, _ = await channel.post(bot_url, activity)

    assert status == 201
    assert [turn.text for turn in bot.turns] == ["hello"]
    reply = await connector.wait_for_activity()
    assert reply.text == "echo: hello"
    assert reply.conversation_id == f"a:personal-{ALICE.id}"
    assert reply.reply_to_id == activity["id"]
    assert connector.rejected == 0
    # The outbound token came from the configured token URL, with our client credentials.
    assert [(r.tenant, r.client_id, r.granted) for r in token_endpoint.requests] == [
        ("botframework.com", APP_ID, True)
    ]


async def test_outbound_token_is_reused_across_turns(
    channel: FakeTeamsChannel,
    bot_url: str,
    connector: FakeBotConnector,
    token_endpoint: FakeTokenEndpoint,
) -> None:
    for text in ("one", "two", "three"):
        status, _ = await channel.post(bot_url, channel.message(text, user=ALICE))
        assert status == 201

    assert [a.text for a in connector.activities] == ["echo: one", "echo: two", "echo: three"]
    assert len(token_endpoint.requests) == 1


async def test_action_execute_answers_the_invoke_response_serialized_once(
    channel: FakeTeamsChannel, bot_url: str, bot: RecordingBot
) -> None:
    invoke = channel.card_action(verb="approve", data={"request": "r-42"}, user=ALICE)

    status, body = await channel.post(bot_url, invoke)

    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": CARD_CONTENT_TYPE,
        "value": {
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": "approve done"}],
        },
    }
    [action] = bot.actions
    assert (action.type, action.verb, action.data) == (
        "Action.Execute",
        "approve",
        {"request": "r-42"},
    )


async def test_action_execute_can_answer_with_a_message(
    channel: FakeTeamsChannel, bot_url: str
) -> None:
    invoke = channel.card_action(verb="say", data={"text": "Already approved by Bob"}, user=ALICE)

    status, body = await channel.post(bot_url, invoke)

    assert (status, body) == (
        200,
        {
            "statusCode": 200,
            "type": "application/vnd.microsoft.activity.message",
            "value": "Already approved by Bob",
        },
    )


@pytest.mark.parametrize(
    "value",
    [
        {"action": {"type": "Action.Execute", "verb": "deny", "data": {"reason": "no"}}},
        AdaptiveCardInvokeValue(
            action={"type": "Action.Execute", "verb": "deny", "data": {"reason": "no"}}
        ),
        AdaptiveCardInvokeValue(
            action=AdaptiveCardInvokeAction(
                type="Action.Execute", verb="deny", data={"reason": "no"}
            )
        ),
    ],
    ids=["raw value", "sdk value with dict action", "sdk value with model action"],
)
def test_card_action_is_parsed_from_every_shape(value: object) -> None:
    action = parse_card_action(value)  # type: ignore[arg-type]
    assert (action.type, action.verb, action.data) == ("Action.Execute", "deny", {"reason": "no"})


@pytest.mark.parametrize("value", [None, {}, {"action": "approve"}])
def test_card_action_without_an_action_object_is_an_error(value: object) -> None:
    with pytest.raises(ValueError, match="no action"):
        parse_card_action(value)  # type: ignore[arg-type]


async def test_unsupported_card_action_gets_the_sdk_error_body_as_json(
    channel: FakeTeamsChannel, bot_url: str, bot: RecordingBot
) -> None:
    invoke = channel.card_action(verb="x", user=ALICE)
    invoke["value"]["action"]["type"] = "Action.Submit"

    status, body = await channel.post(bot_url, invoke)

    assert status == 400
    assert body["statusCode"] == 400
    assert body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["code"] == "NotSupported"
    assert "Action.Submit" in body["value"]["message"]
    assert bot.actions == []


async def test_invoke_the_bot_does_not_handle_is_not_implemented(
    channel: FakeTeamsChannel, bot_url: str, bot: RecordingBot
) -> None:
    invoke = channel.activity("invoke", user=ALICE, name="composeExtension/query", value={})

    status, _ = await channel.post(bot_url, invoke)

    assert status == 501
    assert len(bot.turns) == 1


async def test_malformed_requests_are_refused_before_the_bot(
    channel: FakeTeamsChannel, bot_url: str, bot: RecordingBot
) -> None:
    not_json = {"Content-Type": "text/plain"}
    assert (await channel.post(bot_url, {"type": "message"}, headers=not_json))[0] == 415
    no_service_url = channel.message("hi", user=ALICE)
    del no_service_url["serviceUrl"]
    assert (await channel.post(bot_url, no_service_url))[0] == 400
    assert (await channel.post(bot_url, [1, 2]))[0] == 400  # type: ignore[arg-type]
    assert bot.turns == []


async def test_adapter_creates_conversations_continues_them_and_looks_up_members(
    endpoint: TeamsEndpoint, connector: FakeBotConnector, openid: FakeOpenIdServer
) -> None:
    connector.add_member(ALICE)
    seen: dict[str, object] = {}

    async def greet(turn_context: TurnContext) -> None:
        seen["reference"] = TurnContext.get_conversation_reference(turn_context.activity)
        member = await TeamsInfo.get_member(turn_context, ALICE.id)
        by_aad_id = await TeamsInfo.get_member(turn_context, ALICE.aad_object_id)
        seen["email"], seen["upn"] = member.email, by_aad_id.user_principal_name
        with pytest.raises(ErrorResponseException):
            await TeamsInfo.get_member(turn_context, "29:nobody")
        await turn_context.send_activity("Your request r-42 was approved.")

    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=f"28:{APP_ID}"),
        members=[ChannelAccount(id=ALICE.id)],
        tenant_id=TENANT_ID,
        channel_data={"tenant": {"id": TENANT_ID}},
    )
    await endpoint.adapter.create_conversation(
        endpoint.app_id, greet, parameters, "msteams", connector.url
    )

    created = await connector.wait_for_conversation()
    assert created.parameters["members"] == [{"id": ALICE.id}]
    sent = await connector.wait_for_activity(lambda a: a.conversation_id == created.id)
    assert sent.text == "Your request r-42 was approved."
    assert seen["email"] == seen["upn"] == ALICE.email
    assert [key for _, key in connector.member_lookups] == [
        ALICE.id,
        ALICE.aad_object_id,
        "29:nobody",
    ]

    async def update(turn_context: TurnContext) -> None:
        changed = Activity(type="message", id=sent.id, text="Approved by Bob")
        await turn_context.update_activity(changed)

    await endpoint.adapter.continue_conversation(seen["reference"], update, endpoint.app_id)

    updated = await connector.wait_for_update()
    assert (updated.conversation_id, updated.activity_id) == (created.id, sent.id)
    assert updated.activity["text"] == "Approved by Bob"
    assert openid.metadata_requests == 0  # proactive calls never need inbound keys


async def test_stock_process_still_has_the_defects_this_handler_works_around(
    endpoint: TeamsEndpoint, channel: FakeTeamsChannel, bot: RecordingBot
) -> None:
    """botbuilder 4.17.1's own ``CloudAdapter.process``: 500 for Action.Execute (the body is
    serialized twice) and 500 for an expired token. When this fails, botbuilder fixed them."""

    async def stock(request: web.Request) -> web.Response:
        return await endpoint.adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", stock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    try:
        invoke = channel.card_action(verb="approve", user=ALICE)
        assert (await channel.post(url, invoke))[0] == 500
        assert [action.verb for action in bot.actions] == ["approve"]
        expired = channel.token(expired=True)
        assert (await channel.post(url, channel.message("hi", user=ALICE), token=expired))[0] == 500
    finally:
        await runner.cleanup()
