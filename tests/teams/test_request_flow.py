"""Scenarios over HTTP with real JWT validation: request card → submit → approver cards →
approve → grant → Reveal (once, only in the invoke response) → expiry; deny; cancel."""

from __future__ import annotations

import sqlalchemy as sa

from core.domain.lifecycle import Status
from core.storage.models import AccessRequest
from tests.fakes.teams import FakeMember, RecordedActivity
from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    TeamsHarness,
    card_inputs,
    card_text,
    card_verbs,
    choices,
    conversation_of,
    form_data,
    submit_request,
)


async def status_of(teams: TeamsHarness, request_id: str) -> Status:
    async with teams.ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    assert request is not None
    return Status(request.status)


async def count_requests(teams: TeamsHarness) -> int:
    async with teams.ctx.store.reading() as session:
        return (
            await session.execute(sa.select(sa.func.count()).select_from(AccessRequest))
        ).scalar_one()


async def installed(teams: TeamsHarness, *members: object) -> None:
    for member in members:
        assert await teams.install(member) == 201  # type: ignore[arg-type]


async def test_request_form_narrows_step_by_step_and_previews_the_approvers(
    teams: TeamsHarness,
) -> None:
    await installed(teams, ALICE)
    assert await teams.say(ALICE, "request") == 201
    form = teams.cards_to(ALICE)[-1]
    assert form["version"] == "1.5"
    assert card_inputs(form)["integration"]["value"] == "prod-atlas"  # the only one: chosen
    assert choices(form, "resource") == [
        "cluster:Cluster0",
        "database:analytics",
        "database:analytics_eu",
        "database:sales",
    ]
    assert "permission" not in card_inputs(form)
    assert card_verbs(form) == ["form.refresh", "form.submit"]

    picked = await teams.click(
        ALICE, "form.refresh", {"integration": "prod-atlas", "resource": "database:analytics"}
    )
    assert choices(picked, "permission") == ["read", "readWrite"]
    assert card_inputs(picked)["resource"]["value"] == "database:analytics"

    complete = await teams.click(
        ALICE,
        "form.refresh",
        {"resource": "database:analytics", "permission": "read", "justification": "numbers"},
    )
    assert choices(complete, "duration") == ["15m", "1h", "4h", "8h"]
    text = card_text(complete)
    assert "Who will approve" in text
    assert "Bob Ray" in text and "Carol Lin" in text
    assert "owner of cluster Cluster0 via tag owner=dba" in text
    assert card_inputs(complete)["justification"]["value"] == "numbers"

    # Another resource: the permission no longer applies and is dropped, not kept silently.
    cluster = await teams.click(
        ALICE, "form.refresh", {"resource": "cluster:Cluster0", "permission": "read"}
    )
    assert choices(cluster, "permission") == ["clusterMonitor"]
    assert card_inputs(cluster)["permission"]["value"] == "clusterMonitor"
    assert await count_requests(teams) == 0


async def test_invalid_input_comes_back_on_the_card_and_nothing_is_stored(
    teams: TeamsHarness,
) -> None:
    await installed(teams, ALICE)
    card = await teams.click(ALICE, "form.submit", form_data(justification="   "))
    text = card_text(card)
    assert "A justification is required for this access." in text
    inputs = card_inputs(card)
    assert inputs["resource"]["value"] == "database:analytics"  # the inputs are kept
    assert inputs["permission"]["value"] == "read"
    assert inputs["duration"]["value"] == "1h"
    body = card["body"]
    at = next(i for i, e in enumerate(body) if e.get("id") == "justification")
    assert "justification is required" in card_text({"body": [body[at + 1]]})  # beside it

    too_long = await teams.click(ALICE, "form.submit", form_data(duration="12h"))
    assert "Choose one of the offered durations." not in card_text(too_long)
    assert "The longest you may request is 8 hours." in card_text(too_long)

    missing = await teams.click(ALICE, "form.submit", {"integration": "prod-atlas"})
    assert "Choose a resource." in card_text(missing)
    assert await count_requests(teams) == 0
    await teams.run_jobs()
    assert teams.sent_to(BOB) == []


async def _receipt_and_approver_cards(
    teams: TeamsHarness, request_id: str
) -> tuple[RecordedActivity, RecordedActivity]:
    """Alice's receipt offers Cancel; Bob's card shows every fact and Approve/Deny. Returns
    Alice's receipt and Carol's card, to follow as they are updated."""
    receipt = teams.latest(ALICE, "Your request is in")
    assert card_verbs(teams.current(receipt)) == ["request.cancel"]
    bob_card = teams.latest(BOB, "Access request")
    carol_card = teams.latest(CAROL, "Access request")
    shown = teams.current(bob_card)
    text = card_text(shown)
    for fact in (
        "Alice Doe",
        "prod-atlas",
        "database analytics",
        "read",
        "1 hour",
        "quarterly report",
        request_id,
        "owner of cluster Cluster0 via tag owner=dba",
    ):
        assert fact in text
    assert "Open until" in text
    assert card_verbs(shown) == ["approval.approve", "approval.deny"]
    assert bob_card.activity["summary"].startswith(f"Access request {request_id}")
    return receipt, carol_card


async def _approve_as(
    teams: TeamsHarness, approver: FakeMember, name: str, request_id: str
) -> None:
    """``approver`` (shown as ``name``) approves; the answering card says so and offers
    nothing more."""
    approved = await teams.click(approver, "approval.approve", {"request": request_id})
    assert f"Approved by {name}" in card_text(approved)
    assert card_verbs(approved) == []
    assert "refresh" not in approved
    assert await status_of(teams, request_id) is Status.APPROVED


async def _grant(
    teams: TeamsHarness,
    request_id: str,
    receipt: RecordedActivity,
    carol_card: RecordedActivity,
) -> RecordedActivity:
    """The jobs grant the access and update every copy in place; Alice's "ready" card."""
    await teams.run_jobs()
    assert await status_of(teams, request_id) is Status.ACTIVE
    carol_now = teams.current(carol_card)  # the other copy, updated in place
    assert "Approved by Bob Ray" in card_text(carol_now)
    assert card_verbs(carol_now) == ["access.revoke"]  # Carol owns prod-atlas: "Revoke now"
    assert "Approved by Bob Ray" in card_text(teams.current(receipt))
    assert card_verbs(teams.current(receipt)) == []
    assert "Request approved" in card_text(
        teams.latest(ALICE, "Request approved").activity["attachments"][0]["content"]
    )

    ready = teams.latest(ALICE, "Your access is ready")
    ready_card = teams.current(ready)
    assert "gp-alice" in card_text(ready_card)
    assert "mongodb+srv://prod-atlas.example.net" in card_text(ready_card)
    assert card_verbs(ready_card) == ["password.reveal", "access.done"]
    return ready


async def _reveal_once(teams: TeamsHarness, request_id: str) -> None:
    """Bob cannot see Alice's password; Alice sees it once, in her invoke response only."""
    refused = await teams.click_for_message(BOB, "password.reveal", {"request": request_id})
    assert refused == "Only the person who asked for this access can do that."
    revealed = await teams.click(ALICE, "password.reveal", {"request": request_id})
    assert "pw-gp-alice-1-Xy9!" in card_text(revealed)
    assert card_verbs(revealed) == ["password.hide", "access.done"]
    again = await teams.click(ALICE, "password.reveal", {"request": request_id})
    assert "There is no password waiting for you" in card_text(again)
    assert "pw-gp-" not in card_text(again)
    hidden = await teams.click(ALICE, "password.hide", {"request": request_id})
    assert "pw-gp-" not in card_text(hidden)
    assert card_verbs(hidden) == ["access.done"]


async def _warn_then_expire(teams: TeamsHarness, request_id: str, ready: RecordedActivity) -> None:
    """Near the end Alice is warned, with Extend and Done; at the end the account is gone and
    the ready card loses its buttons."""
    teams.clock.advance(minutes=51)
    await teams.run_jobs()
    warning = teams.current(teams.latest(ALICE, "Your access ends soon"))
    assert card_verbs(warning) == ["access.extend", "access.done"]
    assert choices(warning, "duration") == ["15m", "1h", "4h", "8h"]

    teams.clock.advance(minutes=10)
    await teams.run_jobs()
    assert await status_of(teams, request_id) is Status.EXPIRED
    ended = teams.latest(ALICE, "Access ended")
    assert "expired" in card_text(teams.current(ended))
    assert teams.atlas.accounts == {}
    assert card_verbs(teams.current(ready)) == []  # the ready card lost its buttons
    assert "Access expired" in card_text(teams.current(ready))
    assert all(a.conversation_id == conversation_of(ALICE) for a in teams.sent_to(ALICE))


async def test_approve_grant_reveal_once_and_expire(teams: TeamsHarness) -> None:
    await installed(teams, ALICE, BOB, CAROL)
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()
    receipt, carol_card = await _receipt_and_approver_cards(teams, request_id)
    await _approve_as(teams, BOB, "Bob Ray", request_id)
    ready = await _grant(teams, request_id, receipt, carol_card)
    await _reveal_once(teams, request_id)
    await _warn_then_expire(teams, request_id, ready)


async def test_deny_needs_a_reason_then_everyone_is_told(teams: TeamsHarness) -> None:
    await installed(teams, ALICE, BOB, CAROL)
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()

    no_reason = await teams.click(BOB, "approval.deny", {"request": request_id})
    assert "Say why you deny the request." in card_text(no_reason)
    assert card_verbs(no_reason) == ["approval.approve", "approval.deny"]
    assert await status_of(teams, request_id) is Status.PENDING

    denied = await teams.click(
        BOB, "approval.deny", {"request": request_id, "reason": "use the [replica](http://x)"}
    )
    assert "Denied by Bob Ray" in card_text(denied)
    assert await status_of(teams, request_id) is Status.DENIED
    await teams.run_jobs()
    outcome = teams.current(teams.latest(ALICE, "Request denied"))
    assert "use the [replica](http://x)" in card_text(outcome)
    carol = teams.current(teams.latest(CAROL, "Access request"))
    assert "Denied by Bob Ray" in card_text(carol)
    assert card_verbs(carol) == []
    assert teams.atlas.calls == []


async def test_cancel_updates_every_copy(teams: TeamsHarness) -> None:
    await installed(teams, ALICE, BOB, CAROL)
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()

    bob_refused = await teams.click_for_message(BOB, "request.cancel", {"request": request_id})
    assert bob_refused == "Only the person who asked for this access can do that."
    cancelled = await teams.click(ALICE, "request.cancel", {"request": request_id})
    assert "Cancelled by the requester" in card_text(cancelled)
    assert card_verbs(cancelled) == []
    assert await status_of(teams, request_id) is Status.CANCELLED

    await teams.run_jobs()
    for member in (BOB, CAROL):
        card = teams.current(teams.latest(member, "Access request"))
        assert "Cancelled by the requester" in card_text(card)
        assert card_verbs(card) == []
    again = await teams.click(ALICE, "request.cancel", {"request": request_id})
    assert "it cannot be cancelled now" in card_text(again)


async def test_extend_and_im_done(teams: TeamsHarness) -> None:
    await installed(teams, ALICE, BOB, CAROL)
    request_id = await submit_request(teams, ALICE, duration="1h")
    await teams.run_jobs()
    await teams.click(BOB, "approval.approve", {"request": request_id})
    await teams.run_jobs()
    teams.clock.advance(minutes=51)
    await teams.run_jobs()

    refused = await teams.click(
        ALICE,
        "access.extend",
        {"request": request_id, "card": "warning", "duration": "15m", "justification": ""},
    )
    assert "A justification is required for this access." in card_text(refused)
    extended = await teams.click(
        ALICE,
        "access.extend",
        {
            "request": request_id,
            "card": "warning",
            "duration": "15m",
            "justification": "the load runs late",
        },
    )
    assert "Extension requested: request R" in card_text(extended)
    await teams.run_jobs()
    extension = teams.current(teams.latest(BOB, "Extends"))
    assert request_id in card_text(extension)
    assert "15 minutes" in card_text(extension)

    done = await teams.click(ALICE, "access.done", {"request": request_id, "card": "warning"})
    assert "Removing your access now." in card_text(done)
    await teams.run_jobs()
    assert await status_of(teams, request_id) is Status.REVOKED
    assert teams.atlas.accounts == {}
    ended = teams.current(teams.latest(ALICE, "Access ended"))
    assert "ended early by the requester" in card_text(ended)
    late = await teams.click(ALICE, "access.done", {"request": request_id, "card": "ready"})
    assert "it cannot be revoked now" in card_text(late)
