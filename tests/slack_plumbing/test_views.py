"""Modals and the Home tab on the fake Slack: triggers, stacks, hashes, limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import build_web_client
from tests.fakes.slack import FakeSlack


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return build_web_client(token=slack.bot_token, api_url=slack.api_url)


def modal(title: str = "Request access", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "request_submit",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Submit"},
        "blocks": [
            {
                "type": "input",
                "block_id": "justification",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "justification_input"},
            }
        ],
        **extra,
    }


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def test_a_trigger_opens_one_modal(slack: FakeSlack, client: AsyncWebClient) -> None:
    trigger = slack.new_trigger_id(user_id="U0ALICE")
    opened = await client.views_open(trigger_id=trigger, view=modal(private_metadata="r-1"))
    view = opened["view"]
    assert view["id"].startswith("V") and view["hash"] and view["root_view_id"] == view["id"]
    assert slack.views[view["id"]]["private_metadata"] == "r-1"
    assert slack.views.owners[view["id"]] == "U0ALICE"
    assert await error_of(client.views_open(trigger_id=trigger, view=modal())) == (
        "exchanged_trigger_id"
    )


async def test_an_old_or_unknown_trigger_is_refused(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    old = slack.new_trigger_id(user_id="U0ALICE", age=3.5)
    assert await error_of(client.views_open(trigger_id=old, view=modal())) == "expired_trigger_id"
    unknown = "12345.98765.abcd2358fdea"
    assert await error_of(client.views_open(trigger_id=unknown, view=modal())) == (
        "invalid_trigger_id"
    )
    assert slack.views.views == {}


async def test_a_view_over_the_limits_is_refused(slack: FakeSlack, client: AsyncWebClient) -> None:
    trigger = slack.new_trigger_id(user_id="U0ALICE")
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=modal(title="A title of twenty-five ch"))
    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    no_submit = modal()
    del no_submit["submit"]
    assert await error_of(client.views_open(trigger_id=trigger, view=no_submit)) == (
        "invalid_arguments"
    )
    # A refused view does not use the trigger up.
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]


async def test_update_by_id_or_external_id_with_a_hash(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    trigger = slack.new_trigger_id(user_id="U0ALICE")
    view = (await client.views_open(trigger_id=trigger, view=modal(external_id="req-1")))["view"]
    updated = (
        await client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 2"))
    )["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert updated["title"]["text"] == "Step 2" and updated["external_id"] == "req-1"
    stale = client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 3"))
    assert await error_of(stale) == "hash_conflict"
    by_external = await client.views_update(external_id="req-1", view=modal("Step 3"))
    assert by_external["view"]["title"]["text"] == "Step 3"
    assert await error_of(client.views_update(view_id="V0NOPE", view=modal())) == "not_found"


async def test_push_stacks_at_most_three(slack: FakeSlack, client: AsyncWebClient) -> None:
    root = (
        await client.views_open(trigger_id=slack.new_trigger_id(user_id="U0BOB"), view=modal())
    )["view"]["id"]
    top = root
    for _ in range(2):
        trigger = slack.new_trigger_id(user_id="U0BOB", view_id=top)
        pushed = (await client.views_push(trigger_id=trigger, view=modal("Deny reason")))["view"]
        assert pushed["root_view_id"] == root and pushed["previous_view_id"] == top
        top = pushed["id"]
    assert len(slack.views.stack(root)) == 3
    trigger = slack.new_trigger_id(user_id="U0BOB", view_id=top)
    assert await error_of(client.views_push(trigger_id=trigger, view=modal())) == (
        "push_limit_reached"
    )


async def test_publish_the_home_tab(slack: FakeSlack, client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = (await client.views_publish(user_id="U0ALICE", view=home))["view"]
    again = (await client.views_publish(user_id="U0ALICE", view=home, hash=first["hash"]))["view"]
    assert again["id"] == first["id"] and slack.views.homes["U0ALICE"] == again
    stale = client.views_publish(user_id="U0ALICE", view=home, hash=first["hash"])
    assert await error_of(stale) == "hash_conflict"
    assert await error_of(client.views_publish(user_id="U0NOBODY", view=home)) == "user_not_found"
    assert await error_of(client.views_publish(user_id="U0ALICE", view=modal())) == (
        "invalid_arguments"
    )
