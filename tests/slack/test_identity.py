"""Who is who: Slack users to emails (cached in chat accounts), people to Slack users, and the
notifier's behaviour with people Slack does not have."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.notifier import SlackNotifier
from core.domain.errors import NoChatEmail, NotInDirectory
from core.domain.messages import RequestReceived
from core.domain.ports import MessageRef
from tests.slack.harness import Harness, shown
from tests.slack.test_paths import pending_request


def notifier(harness: Harness) -> SlackNotifier:
    (found,) = [n for n in harness.gatepass.notifiers if n.platform == "slack"]
    assert isinstance(found, SlackNotifier)
    return found


async def test_users_info_is_asked_once_then_the_account_is_remembered(harness: Harness) -> None:
    await harness.command("U0BOB", "list")
    await harness.command("U0BOB", "pending")
    assert len(harness.slack.calls_to("users.info")) == 1
    rows = await harness.rows("SELECT email FROM chat_accounts WHERE platform_user_id = 'U0BOB'")
    assert rows == ["bob@example.com"]  # Slack said Bob@Example.com


async def test_strangers_bots_and_deleted_users_are_not_in_the_directory(
    harness: Harness,
) -> None:
    harness.slack.add_user("U0ROBOT", email="robot@example.com", is_bot=True)
    harness.slack.add_user("U0GONE", email="alice2@example.com", deleted=True)
    identity = harness.deps.identity
    with pytest.raises(NotInDirectory, match=r"mallory@example\.com"):
        await identity.email_for("U0MALLORY")
    for user_id in ("U0ROBOT", "U0GONE", "U0NOBODY", "not-a-user-id"):
        with pytest.raises(NoChatEmail):
            await identity.email_for(user_id)
    assert await harness.count("chat_accounts") == 0


async def test_people_are_found_by_email_and_remembered(harness: Harness) -> None:
    slack_side = notifier(harness)
    assert await slack_side.reachable("dave@example.com")
    assert await slack_side.reachable("DAVE@example.com")
    assert len(harness.slack.calls_to("users.lookupByEmail")) == 1
    assert not await slack_side.reachable("erin@example.com")  # in the directory, not on Slack
    request_id = await pending_request(harness)
    view = await harness.view_of(request_id)
    assert await slack_side.send("erin@example.com", RequestReceived(view)) is None


async def test_an_update_of_a_deleted_message_is_not_an_error(harness: Harness) -> None:
    request_id = await pending_request(harness)
    view = await harness.view_of(request_id)
    ref = await notifier(harness).send("alice@example.com", RequestReceived(view))
    assert ref is not None and ref.channel == harness.slack.dm_channel("U0ALICE")
    await notifier(harness).update(MessageRef("slack", ref.channel, "1.000"), RequestReceived(view))
    await notifier(harness).update(ref, RequestReceived(view))
    assert request_id in shown(harness.slack.message(ref.channel, ref.message_id))
    harness.slack.fail_next("chat.update", error="internal_error")
    with pytest.raises(SlackApiError):  # anything else: the job retries it
        await notifier(harness).update(ref, RequestReceived(view))
