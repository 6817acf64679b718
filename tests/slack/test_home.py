"""The App Home tab and the ``list`` / ``pending`` / ``help`` subcommands."""

from __future__ import annotations

from bot.slack import ids
from core.domain.lifecycle import Status
from tests.fakes.slack import event_callback
from tests.slack.harness import Harness, buttons, shown
from tests.slack.test_paths import granted_request, pending_request

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


async def open_home(harness: Harness, user_id: str) -> dict:
    mark = harness.slack.mark()
    event = event_callback({"type": "app_home_opened", "user": user_id, "tab": "home"})
    assert (await harness.send(event)).status == 200
    await harness.slack.wait_for("views.publish", lambda c: c["user_id"] == user_id, since=mark)
    await harness.settle()
    return harness.slack.views.homes[user_id]


async def test_home_lists_access_decisions_and_requests(harness: Harness) -> None:
    home = await open_home(harness, ALICE)
    assert buttons(home) == {ids.OPEN_REQUEST_MODAL: "home"}
    assert "You have no active access." in shown(home)

    request_id = await pending_request(harness)
    bob_home = await open_home(harness, BOB)
    assert buttons(bob_home)[ids.APPROVE] == request_id
    assert "Why you: owner of cluster Cluster0" in shown(bob_home)

    await harness.click(BOB, ids.APPROVE, request_id, view_id=bob_home["id"])
    assert await harness.status(request_id) is Status.APPROVED
    assert "Nothing is waiting for you." in shown(harness.slack.views.homes[BOB])
    await harness.run_jobs()
    alice_home = harness.slack.views.homes[ALICE]  # republished by the notifier
    assert buttons(alice_home) == {
        ids.OPEN_REQUEST_MODAL: "home",
        ids.EXTEND: request_id,
        ids.DONE: request_id,
        ids.REQUEST_AGAIN: request_id,
    }


async def test_a_refusal_on_the_home_tab_is_shown_there(harness: Harness) -> None:
    request_id = await pending_request(harness)
    await open_home(harness, CAROL)
    bob_home = await open_home(harness, BOB)
    await harness.click(
        CAROL, ids.APPROVE, request_id, view_id=harness.slack.views.homes[CAROL]["id"]
    )
    await harness.click(BOB, ids.APPROVE, request_id, view_id=bob_home["id"])
    assert "was already approved by Carol Lin" in shown(harness.slack.views.homes[BOB])


async def test_request_again_opens_the_modal_filled_in(harness: Harness) -> None:
    request_id = await granted_request(harness)
    home = await open_home(harness, ALICE)
    mark = harness.slack.mark()
    await harness.click(ALICE, ids.REQUEST_AGAIN, request_id, view_id=home["id"])
    opened = await harness.slack.wait_for("views.open", since=mark)
    modal = harness.view(opened.response["view"]["id"])
    initial = {
        b["element"]["action_id"]: b["element"].get("initial_option", {}).get("value")
        or b["element"].get("initial_value")
        for b in modal["blocks"]
        if b.get("type") == "input"
    }
    assert initial == {
        ids.INTEGRATION_SELECT: "prod-atlas",
        ids.RESOURCE_SELECT: "database:analytics",
        ids.PERMISSION_SELECT: "read",
        ids.DURATION_SELECT: "1h",
        ids.JUSTIFICATION_INPUT: "quarterly report",
    }
    reply = await harness.submit(ALICE, modal["id"])
    assert reply.json() is None and len(await harness.request_ids()) == 2
    mark = harness.slack.mark()
    await harness.click(BOB, ids.REQUEST_AGAIN, request_id, view_id=home["id"])
    refused = await harness.slack.wait_for("views.update", since=mark)
    assert "Only the person who asked for this access" in shown(refused.args["view"])


async def test_list_pending_and_help(harness: Harness) -> None:
    request_id = await pending_request(harness)
    await harness.command(BOB, "pending")
    (pending,) = harness.slack.calls_to("response_url")
    assert pending["response_type"] == "ephemeral"
    assert buttons(pending.args) == {ids.APPROVE: request_id, ids.DENY: request_id}
    await harness.command(ALICE, "list")
    listed = harness.slack.calls_to("response_url")[-1]
    assert request_id in shown(listed.args) and "Waiting for approval" in shown(listed.args)
    reply = await harness.command(ALICE, "help")
    assert "/gatepass pending" in reply.json()["text"]
    reply = await harness.command(ALICE, "<!here>")
    assert "<!here>" not in reply.json()["text"] and "I don't know" in reply.json()["text"]
