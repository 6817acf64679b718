"""The pure builders: wording of each state, marks, and Slack's limits with hostile input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.slack import ids
from bot.slack.blocks import render
from bot.slack.blocks.home import home_view
from bot.slack.blocks.modals import request_modal, resource_options
from bot.slack.form import block_id, input_from_state
from core.domain.lifecycle import Status
from core.domain.messages import (
    AccessEnded,
    AccessReady,
    ApprovalRequested,
    ExpiryWarning,
    OwnerAlert,
    RequestOutcome,
    RequestReceived,
)
from core.domain.request_form import (
    Choice,
    FormInput,
    RequestForm,
    Step,
    duration_choice,
    resource_choice,
    resource_value,
)
from core.domain.views import ApproverView, DecisionView, RequestView
from tests.fakes.slack_blocks import check_blocks, check_view
from tests.slack.harness import INJECTIONS, NASTY, buttons, shown, texts

NOW = datetime(2026, 11, 23, 10, 32, tzinfo=UTC)
BOB = ApproverView("bob@example.com", "Bob Ray", "owner of cluster Cluster0 via tag owner=dba")


def view(**changes: object) -> RequestView:
    base = RequestView(
        id="RABCDEFGHJ", flow="f", integration="prod-atlas", resource_type="database",
        resource_name="analytics", permission="read", duration=timedelta(hours=4),
        justification="report", requester="alice@example.com", requester_name="Alice Doe",
        platform="slack", status=Status.PENDING, approvals_required=1, approvers=(BOB,),
        decisions=(), created_at=NOW, pending_until=NOW + timedelta(hours=24), decided_at=None,
        decided_by=None, decided_by_name=None, decided_on=None, decision_reason=None,
        starts_at=None, ends_at=None, ended_at=None, end_reason=None, failure=None,
        extends_request_id=None,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def approved(on: str = "slack", **changes: object) -> RequestView:
    return view(
        status=Status.APPROVED,
        decided_at=NOW,
        decided_by="bob@example.com",
        decided_by_name="Bob Ray",
        decided_on=on,
        **changes,
    )


def test_the_final_state_names_who_when_and_where() -> None:
    here = shown(render(ApprovalRequested(approved(), BOB)).blocks)
    assert "Approved by Bob Ray at 2026-11-23 10:32 UTC" in here
    there = shown(render(ApprovalRequested(approved("teams"), BOB)).blocks)
    assert "Approved by Bob Ray in Teams at 2026-11-23 10:32 UTC" in there
    denied = view(
        status=Status.DENIED,
        decided_at=NOW,
        decided_by="bob@example.com",
        decided_by_name="Bob Ray",
        decided_on="teams",
        decision_reason="no",
    )
    text = shown(render(RequestOutcome(denied)).blocks)
    assert "Denied by Bob Ray in Teams at 2026-11-23 10:32 UTC" in text and "Reason:* no" in text


def test_escalations_reminders_and_progress_are_marked() -> None:
    carol = ApproverView("carol@example.com", "Carol", "integration owner (escalated)", True)
    first = view(approvals_required=2, decisions=(
        DecisionView("bob@example.com", "Bob Ray", "approve", None, "slack", NOW),
    ))  # fmt: skip
    escalated = shown(render(ApprovalRequested(first, carol, reminder=True)).blocks)
    assert "Escalated to you:" in escalated and "Reminder:" in escalated
    assert "1 of 2 approvals (Bob Ray)" in escalated
    bobs = render(ApprovalRequested(first, BOB))
    assert not buttons({"blocks": bobs.blocks})  # Bob decided already
    assert "waiting for the other approvals" in shown(bobs.blocks)


def test_pending_until_and_reason_are_shown_to_the_approver() -> None:
    text = shown(render(ApprovalRequested(view(), BOB)).blocks)
    assert "Why you: owner of cluster Cluster0 via tag owner=dba" in text
    assert "Open until: 2026-11-24 10:32 UTC" in text and "4 hours" in text


HOSTILE = "*_~`<>&" * 400  # 2800 characters, each one escaped into something longer


@pytest.mark.parametrize(
    "message",
    [
        ApprovalRequested(view(justification=HOSTILE[:2000], requester_name=NASTY), BOB),
        RequestReceived(view(justification=HOSTILE[:2000], resource_name="x" * 255)),
        RequestOutcome(
            view(
                status=Status.DENIED,
                decided_at=NOW,
                decided_by="b@x",
                decided_by_name=NASTY,
                decision_reason=HOSTILE[:2000],
            )
        ),
        AccessReady(
            view(
                status=Status.ACTIVE,
                ends_at=NOW,
                username=NASTY,
                connection={"connection_string": HOSTILE, "custom_access_details": HOSTILE},
                password_waiting=True,
            ),
            password_waiting=True,
        ),
        ExpiryWarning(view(status=Status.ACTIVE, ends_at=NOW, resource_name=HOSTILE[:255])),
        AccessEnded(view(status=Status.REVOKED, ended_at=NOW, end_reason=HOSTILE[:2000])),
        OwnerAlert(view(status=Status.FAILED, failure=HOSTILE), HOSTILE),
    ],
    ids=lambda m: type(m).__name__,
)
def test_hostile_text_stays_inert_and_within_limits(message: object) -> None:
    rendered = render(message)
    assert check_blocks(rendered.blocks, surface="message") == []
    assert len(rendered.text) <= 300
    for source in [*texts(rendered.blocks, mrkdwn_only=True), rendered.text]:
        assert not any(injected in source for injected in INJECTIONS)
        assert "<>" not in source and "&&" not in source


def test_the_request_modal_and_home_fit_with_many_items() -> None:
    pending = [view(id=f"R{i:09d}", justification=HOSTILE[:2000]) for i in range(40)]
    home = home_view(me="bob@example.com", active=pending, pending=pending, recent=pending)
    assert check_view(home) == []
    long_name = "c" * 255
    resources = [resource_choice(t, f"{long_name}{t}") for t in ("a", "b")]
    options = resource_options(resources * 80)
    assert all(len(o["options"]) <= 100 for o in options["option_groups"])
    value = resource_value("collection", long_name)
    assert len(value) <= 150 and value.startswith("collection#")
    form = RequestForm(
        integration=chosen(Choice("prod-atlas", "prod-atlas")),
        resource=chosen(resource_choice("collection", long_name)),
        resource_name=long_name,
        permission=chosen(Choice("read", "read")),
        duration=chosen(duration_choice(timedelta(hours=1))),
        justification_required=True,
        problem=NASTY,
    )
    modal = request_modal(form)
    assert check_view(modal) == []
    assert not any(i in t for t in texts(modal, mrkdwn_only=True) for i in INJECTIONS)


def chosen(choice: Choice) -> Step:
    return Step((choice,), choice, choice.value)


def test_state_under_an_outdated_block_id_is_ignored() -> None:
    current = FormInput("prod-atlas")
    stale = FormInput("other")
    values = {
        block_id("integration", current): {
            ids.INTEGRATION_SELECT: {"selected_option": {"value": "prod-atlas"}}
        },
        block_id("resource", stale): {
            ids.RESOURCE_SELECT: {"selected_option": {"value": "database:analytics"}}
        },
    }
    assert input_from_state(values) == FormInput("prod-atlas")
