"""The whole flow over HTTP: command → modal → dependent choices → submit → approver DM →
approve → grant → requester DM with Reveal → the password once → expiry warning → expiry."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.slack import ids
from core.domain.lifecycle import Status
from tests.fakes.slack import FakeSlack, block_suggestion
from tests.slack.harness import Harness, buttons, shown, slack_config, start_harness, texts
from tests.support.domain import BASE_CONFIG

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


async def submit_request(
    harness: Harness,
    *,
    resource: str = "database:analytics",
    permission: str = "read",
    duration: str = "1h",
    justification: str = "quarterly report",
) -> str:
    """Alice asks through the modal; returns the new request's id."""
    view_id = await harness.open_request_modal(ALICE)
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, resource)
    await harness.choose(ALICE, view_id, ids.PERMISSION_SELECT, permission)
    await harness.choose(ALICE, view_id, ids.DURATION_SELECT, duration)
    before = set(await harness.request_ids())
    reply = await harness.submit(ALICE, view_id, {ids.JUSTIFICATION_INPUT: justification})
    assert reply.status == 200 and reply.json() is None, reply.body  # closed, no errors
    (request_id,) = set(await harness.request_ids()) - before
    return request_id


async def _open_the_modal_and_search_resources(harness: Harness) -> str:
    """The modal opens in its loading state, then offers resources as Alice types; its view id."""
    view_id = await harness.open_request_modal(ALICE)
    opened = harness.slack.calls_to("views.open")[0]
    assert opened["view"]["callback_id"] == ids.NOTICE_VIEW  # the loading state, at once
    modal = harness.view(view_id)
    assert modal["callback_id"] == ids.REQUEST_SUBMIT
    # One integration: chosen already; the resource is searched as the user types.
    assert harness.block_of(view_id, ids.RESOURCE_SELECT).startswith("resource-")
    values = harness.state(view_id, {})
    reply = await harness.send(
        block_suggestion(action_id=ids.RESOURCE_SELECT, value="ana", values=values)
    )
    options = [o["value"] for o in reply.json()["options"]]
    assert options == ["database:analytics", "database:analytics_eu"]
    everything = (
        await harness.send(block_suggestion(action_id=ids.RESOURCE_SELECT, value="", values=values))
    ).json()
    groups = {
        g["label"]["text"]: [o["value"] for o in g["options"]] for g in everything["option_groups"]
    }
    assert groups == {
        "Clusters": ["cluster:Cluster0"],
        "Databases": ["database:analytics", "database:analytics_eu", "database:sales"],
    }  # billing is covered by no flow of Alice's
    return view_id


async def _fill_the_request_modal(harness: Harness, view_id: str) -> str:
    """Resource, then permission (which previews the approvers), then duration and submit;
    returns the new, still pending request's id."""
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    modal = harness.view(view_id)
    permission_block = harness.block_of(view_id, ids.PERMISSION_SELECT)
    permission_options = next(
        b["element"]["options"] for b in modal["blocks"] if b.get("block_id") == permission_block
    )
    assert [o["value"] for o in permission_options] == ["read", "readWrite"]
    assert "Who will approve" not in shown(modal)

    await harness.choose(ALICE, view_id, ids.PERMISSION_SELECT, "read")
    preview = shown(harness.view(view_id))
    assert "Who will approve" in preview and "Bob Ray" in preview and "Carol Lin" in preview
    assert "owner of cluster Cluster0 via tag owner=dba" in preview
    await harness.choose(ALICE, view_id, ids.DURATION_SELECT, "1h")
    reply = await harness.submit(ALICE, view_id, {ids.JUSTIFICATION_INPUT: "quarterly report"})
    assert reply.status == 200 and reply.json() is None
    (request_id,) = await harness.request_ids()
    assert await harness.status(request_id) is Status.PENDING
    assert not harness.dm(ALICE)  # the receipt is the job's, not the submit handler's
    return request_id


async def _receipt_and_asks_are_sent(harness: Harness, request_id: str) -> None:
    """The jobs send Alice her receipt and each approver a DM with the facts and the buttons."""
    await harness.run_jobs()
    receipt = harness.dm_with(ALICE, request_id)
    assert buttons(receipt) == {ids.CANCEL_REQUEST: request_id}
    assert "Bob Ray" in shown(receipt) and "Carol Lin" in shown(receipt)
    for approver in (BOB, CAROL):
        ask = harness.dm_with(approver, "quarterly report")
        assert buttons(ask) == {ids.APPROVE: request_id, ids.DENY: request_id}
        text = shown(ask)
        for fact in ("Alice Doe", "prod-atlas", "analytics", "read", "1 hour", request_id):
            assert fact in text
        assert "Why you: owner of cluster Cluster0 via tag owner=dba" in text
        assert "Open until" in text and "2026-11-24 10:00 UTC" in text


async def _approve_as(harness: Harness, approver: str, name: str, request_id: str) -> None:
    """``approver`` (shown as ``name``) clicks Approve on their own DM."""
    slack = harness.slack
    own_copy = harness.dm_with(approver, "quarterly report")
    mark = slack.mark()
    assert (await harness.click(approver, ids.APPROVE, request_id, message=own_copy)).status == 200
    # The approver's own message is updated at once, before any job runs.
    update = await slack.wait_for("chat.update", lambda c: c["ts"] == own_copy["ts"], since=mark)
    assert f"Approved by {name} at" in shown(update.args) and not buttons(update.args)
    assert await harness.status(request_id) is Status.APPROVED


async def _grant(harness: Harness, request_id: str) -> dict[str, Any]:
    """The jobs grant the access, close every approver's copy and tell Alice; her "ready" DM."""
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.ACTIVE
    for approver in (BOB, CAROL):
        final = harness.dm_with(approver, "quarterly report")
        assert "Approved by Bob Ray at 2026-11-23 10:00 UTC" in shown(final)
        # Both own prod-atlas: their copy of the active grant carries only "Revoke now".
        assert buttons(final) == {ids.REVOKE_NOW: request_id}
    ready = harness.dm_with(ALICE, "Your access is ready")
    assert buttons(ready) == {ids.REVEAL_PASSWORD: request_id, ids.DONE: request_id}
    text = shown(ready)
    assert "gp-alice" in text and "mongodb+srv://prod-atlas.example.net" in text
    assert "Approved by Bob Ray" in shown(harness.dm_with(ALICE, "approved"))
    return ready


async def _reveal_once(
    harness: Harness, request_id: str, ready: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Reveal shows the password once, in a modal only; a second click finds none, and the
    password is in no log line, no other call and no message."""
    slack = harness.slack
    caplog.set_level(logging.DEBUG)
    mark = slack.mark()
    await harness.click(ALICE, ids.REVEAL_PASSWORD, request_id, message=ready)
    shown_once = await slack.wait_for("views.update", since=mark)
    password = "pw-gp-alice-1-Xy9!"
    assert password in shown(shown_once.args["view"])
    assert shown_once.args["view"]["callback_id"] == ids.REVEAL_PASSWORD_VIEW
    ready_now = harness.dm_with(ALICE, "Your access is ready")
    assert ids.REVEAL_PASSWORD not in buttons(ready_now)
    mark = slack.mark()
    await harness.click(ALICE, ids.REVEAL_PASSWORD, request_id, message=ready)
    refused = await slack.wait_for("views.update", since=mark)
    assert "no password waiting" in shown(refused.args["view"])
    assert password not in caplog.text
    everywhere = [c for c in slack.calls if c.method != "views.update" or c is not shown_once]
    assert not any(password in shown(c.args) for c in everywhere)
    assert not any(password in shown(m) for ms in slack.messages.values() for m in ms.values())


async def _warn_then_expire(harness: Harness, request_id: str) -> None:
    """Near the end Alice is warned, with Extend and Done; at the end the account is gone and
    her messages lose their buttons."""
    harness.clock.advance(minutes=51)
    await harness.run_jobs()
    warning = harness.dm_with(ALICE, "ends at")
    assert buttons(warning) == {ids.EXTEND: request_id, ids.DONE: request_id}
    harness.clock.advance(minutes=10)
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.EXPIRED
    assert harness.atlas.accounts == {}
    ended = harness.dm_with(ALICE, "expired at")
    assert request_id in shown(ended)
    assert not buttons(harness.dm_with(ALICE, "ends at"))  # the warning lost its buttons
    assert not buttons(harness.dm_with(ALICE, "mongodb+srv"))


async def test_request_approve_grant_reveal_expire(
    harness_on_each_database: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness = harness_on_each_database
    view_id = await _open_the_modal_and_search_resources(harness)
    request_id = await _fill_the_request_modal(harness, view_id)
    await _receipt_and_asks_are_sent(harness, request_id)
    await _approve_as(harness, BOB, "Bob Ray", request_id)
    ready = await _grant(harness, request_id)
    await _reveal_once(harness, request_id, ready, caplog)
    await _warn_then_expire(harness, request_id)


async def test_the_modal_shows_field_errors_instead_of_failing(harness: Harness) -> None:
    view_id = await harness.open_request_modal(ALICE)
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    await harness.choose(ALICE, view_id, ids.PERMISSION_SELECT, "read")
    await harness.choose(ALICE, view_id, ids.DURATION_SELECT, "1h")
    reply = await harness.submit(ALICE, view_id, {ids.JUSTIFICATION_INPUT: "  "})
    assert reply.json() == {
        "response_action": "errors",
        "errors": {"justification": "A justification is required for this access."},
    }
    reply = await harness.submit(ALICE, view_id, {ids.DURATION_SELECT: "9h"})  # not offered
    body = reply.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [harness.block_of(view_id, ids.DURATION_SELECT)]
    assert await harness.request_ids() == []


async def test_changing_the_resource_resets_what_depends_on_it(harness: Harness) -> None:
    view_id = await harness.open_request_modal(ALICE)
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    await harness.choose(ALICE, view_id, ids.PERMISSION_SELECT, "readWrite")
    first = harness.block_of(view_id, ids.PERMISSION_SELECT)
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "cluster:Cluster0")
    second = harness.block_of(view_id, ids.PERMISSION_SELECT)
    assert first != second  # a new block id: Slack drops the stale choice
    modal = harness.view(view_id)
    block = next(b for b in modal["blocks"] if b.get("block_id") == second)
    assert [o["value"] for o in block["element"]["options"]] == ["clusterMonitor"]
    assert block["element"]["initial_option"]["value"] == "clusterMonitor"  # the only one
    assert not any(
        (b.get("element") or {}).get("action_id") == ids.DURATION_SELECT and b["block_id"] == first
        for b in modal["blocks"]
    )


async def test_the_shortcut_opens_the_same_modal(harness: Harness) -> None:
    from tests.fakes.slack import shortcut

    trigger = harness.slack.new_trigger_id(user_id=ALICE)
    assert (await harness.send(shortcut(user_id=ALICE, trigger_id=trigger))).status == 200
    await harness.settle()
    (opened,) = harness.slack.calls_to("views.open")
    assert opened["trigger_id"] == trigger
    view = harness.view(opened.response["view"]["id"])
    assert view["callback_id"] == ids.REQUEST_SUBMIT


async def test_every_message_fits_slack(harness: Harness) -> None:
    """The fake enforces Block Kit's limits: a long, formatting-heavy justification is cut, not
    refused, in every message and modal."""
    request_id = await submit_request(harness, justification="*_~`" * 500)
    await harness.run_jobs()
    failed = [c for c in harness.slack.calls if not c.ok and c.method != "response_url"]
    assert failed == []
    ask = harness.dm_with(BOB, request_id)
    assert all(len(t) <= 3000 for t in texts(ask, mrkdwn_only=True))
    assert timedelta(hours=1) == (await harness.view_of(request_id)).duration


async def test_with_two_integrations_the_resource_follows_the_integration(
    slack: FakeSlack, sqlite_url: str, encryption_key: str
) -> None:
    stage = {**BASE_CONFIG["integrations"][0], "name": "stage-atlas"}
    flows = [
        BASE_CONFIG["access_flows"][0],
        {**BASE_CONFIG["access_flows"][0], "name": "stage-all", "integration": "stage-atlas"},
    ]
    config = slack_config(
        slack, sqlite_url, integrations=[BASE_CONFIG["integrations"][0], stage], access_flows=flows
    )
    harness = await start_harness(
        slack, sqlite_url, encryption_key, config=config, also=("stage-atlas",)
    )
    try:
        view_id = await harness.open_request_modal(ALICE)
        inputs = [
            b["element"]["action_id"]
            for b in harness.view(view_id)["blocks"]
            if b["type"] == "input"
        ]
        assert inputs == [ids.INTEGRATION_SELECT, ids.JUSTIFICATION_INPUT]  # choose one first
        await harness.choose(ALICE, view_id, ids.INTEGRATION_SELECT, "prod-atlas")
        prod_block = harness.block_of(view_id, ids.RESOURCE_SELECT)
        await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:sales")
        await harness.choose(ALICE, view_id, ids.INTEGRATION_SELECT, "stage-atlas")
        assert harness.block_of(view_id, ids.RESOURCE_SELECT) != prod_block
        resource_block = next(
            b
            for b in harness.view(view_id)["blocks"]
            if b.get("block_id", "").startswith("resource")
        )
        assert "initial_option" not in resource_block["element"]  # the sales pick is gone
        assert all(
            (b.get("element") or {}).get("action_id") != ids.PERMISSION_SELECT
            for b in harness.view(view_id)["blocks"]
        )
    finally:
        await harness.close()
