"""The direct messages Gatepass sends, one builder per ``core.domain.messages`` type.

A message is rendered from the request's current state, so the same builder serves the first
post and every later update: once the request has moved on, the buttons that no longer apply
are gone and a line says what happened.
"""

from __future__ import annotations

from functools import singledispatch

from bot.slack import ids, text
from bot.slack.blocks.common import (
    Block,
    Rendered,
    actions,
    approvals_progress,
    button,
    confirm,
    context,
    decision_line,
    fallback,
    fields,
    inert,
    justification,
    request_fields,
    resource,
    section,
    state_lines,
    what,
    when,
)
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
from core.domain.views import RequestView


@singledispatch
def render(message: object) -> Rendered:
    """The Slack message for one of ``core.domain.messages``."""
    raise TypeError(f"no Slack rendering for {type(message).__name__}")


# --------------------------------------------------------------------------- approvers


@render.register
def approval_request(message: ApprovalRequested) -> Rendered:
    view, approver = message.request, message.approver
    lead = f"*{inert(view.requester_name)}* asks for {what(view)}"
    if message.reminder and view.is_pending:
        lead = f":bell: *Reminder:* {lead}"
    if approver.escalation:
        lead = f":arrow_up: *Escalated to you:* {lead}"
    blocks: list[Block] = [
        section(lead),
        request_fields(view),
        justification(view),
        context(
            f"Why you: {text.escape(approver.reason, single_line=True) or 'you were named'}",
            f"Open until {when(view.pending_until)}",
        ),
    ]
    progress = approvals_progress(view)
    if progress:
        blocks.append(context(progress))
    if view.awaits_decision_from(approver.email):
        blocks.append(
            actions(
                button("Approve", action_id=ids.APPROVE, value=view.id, style="primary"),
                button("Deny", action_id=ids.DENY, value=view.id, style="danger"),
                block_id=f"decide:{view.id}",
            )
        )
    elif view.is_pending:
        blocks.append(section("You have decided; waiting for the other approvals."))
    else:
        blocks.append(section("\n".join(state_lines(view))))
    return Rendered(
        fallback(f"Access request {inert(view.id)} from {inert(view.requester_name)}:", what(view)),
        blocks,
    )


# --------------------------------------------------------------------------- requester


@render.register
def request_received(message: RequestReceived) -> Rendered:
    view = message.request
    if view.is_pending:
        lead = f"Your request *{inert(view.id)}* is in: {what(view)}."
    else:
        lead = f"Your request *{inert(view.id)}*: {what(view)}."
    blocks: list[Block] = [section(lead), request_fields(view)]
    if view.approvers:
        lines = [
            f"• {inert(a.name)} — {text.escape(a.reason, single_line=True)}" for a in view.approvers
        ]
        label = (
            "Approvers"
            if view.approvals_required <= 1
            else (f"Approvers ({view.approvals_required} must approve)")
        )
        blocks.append(section(f"*{label}*\n" + "\n".join(lines)))
    if view.is_pending:
        blocks.append(context(f"Open until {when(view.pending_until)}"))
        blocks.append(
            actions(
                button(
                    "Cancel request",
                    action_id=ids.CANCEL_REQUEST,
                    value=view.id,
                    confirm=confirm(
                        "Cancel this request?",
                        f"Request {inert(view.id)} will be withdrawn.",
                        yes="Cancel request",
                    ),
                ),
                block_id=f"receipt:{view.id}",
            )
        )
    else:
        blocks.append(section("\n".join(state_lines(view))))
    return Rendered(fallback(f"Request {inert(view.id)} sent:", what(view)), blocks)


@render.register
def request_outcome(message: RequestOutcome) -> Rendered:
    view = message.request
    line = decision_line(view) or f"Request {inert(view.id)} is {inert(view.status.value)}."
    blocks: list[Block] = [section(f"Request *{inert(view.id)}*: {what(view)}"), section(line)]
    if view.status is Status.FAILED:
        blocks.append(section(state_lines(view)[-1]))
    elif view.status in (Status.APPROVED, Status.GRANTING):
        blocks.append(context("Gatepass is granting the access; the details follow here."))
    summary = {
        Status.DENIED: "denied",
        Status.CANCELLED: "cancelled",
        Status.TIMED_OUT: "timed out",
        Status.FAILED: "could not be granted",
    }.get(view.status, "approved")
    return Rendered(fallback(f"Request {inert(view.id)} {summary}."), blocks)


def _connection_blocks(view: RequestView) -> list[Block]:
    connection = view.connection or {}
    blocks: list[Block] = [
        fields(
            [
                ("Username", inert(view.username or "—")),
                ("Permission", inert(view.permission)),
                ("Resource", f"{inert(view.resource_type)} {inert(view.resource_name)}"),
                ("Expires", when(view.ends_at)),
            ]
        )
    ]
    if connection.get("connection_string"):
        blocks.append(
            section(f"*Connection string*\n{text.escape(str(connection['connection_string']))}")
        )
    if connection.get("custom_access_details"):
        details = text.escape(str(connection["custom_access_details"]))
        blocks.append(section(f"*Access details*\n{details}"))
    notes = [text.escape(str(n)) for n in connection.get("notes") or [] if n]  # type: ignore[attr-defined]
    if notes:
        blocks.append(context(*notes))
    return blocks


@render.register
def access_ready(message: AccessReady) -> Rendered:
    view = message.request
    active = view.status is Status.ACTIVE
    lead = (
        f":unlocked: Your access is ready: {what(view)}" if active else f"Your access: {what(view)}"
    )
    blocks: list[Block] = [section(lead), *_connection_blocks(view)]
    buttons: list[Block] = []
    if active and message.password_waiting and view.password_waiting:
        buttons.append(
            button("Reveal password", action_id=ids.REVEAL_PASSWORD, value=view.id, style="primary")
        )
        blocks.append(
            context(
                "The password is shown once, in a window only you can see. It is never posted "
                "in this conversation."
            )
        )
    if active:
        buttons.append(_done_button(view))
        blocks.append(actions(*buttons, block_id=f"ready:{view.id}"))
    else:
        blocks.append(section("\n".join(state_lines(view)) or inert(view.status.value)))
    return Rendered(fallback(f"Access ready: {what(view)}"), blocks)


def _done_button(view: RequestView) -> Block:
    return button(
        "I'm done",
        action_id=ids.DONE,
        value=view.id,
        confirm=confirm(
            "End this access now?",
            f"Your {what(view)} access is removed right away.",
            yes="End access",
        ),
    )


@render.register
def expiry_warning(message: ExpiryWarning) -> Rendered:
    view = message.request
    blocks: list[Block] = [
        section(f":hourglass_flowing_sand: Your {what(view)} access ends at {when(view.ends_at)}.")
    ]
    if view.status is Status.ACTIVE:
        blocks.append(
            actions(
                button("Extend", action_id=ids.EXTEND, value=view.id, style="primary"),
                _done_button(view),
                block_id=f"expiry:{view.id}",
            )
        )
        blocks.append(context("Extending asks for a new approval."))
    else:
        blocks.append(section("\n".join(state_lines(view)) or inert(view.status.value)))
    return Rendered(fallback(f"Your access to {resource(view)} ends soon."), blocks)


@render.register
def access_ended(message: AccessEnded) -> Rendered:
    view = message.request
    if view.status is Status.EXPIRED:
        line = f"Your {what(view)} access expired at {when(view.ended_at)}."
    else:
        reason = f": {text.escape(view.end_reason)}" if view.end_reason else "."
        line = f"Your {what(view)} access was removed at {when(view.ended_at)}{reason}"
    blocks = [section(f":lock: {line}"), context(f"Request {inert(view.id)}")]
    return Rendered(fallback(f"Your access to {resource(view)} ended."), blocks)


# --------------------------------------------------------------------------- owners


@render.register
def owner_alert(message: OwnerAlert) -> Rendered:
    view = message.request
    blocks = [
        section(f":warning: *Gatepass needs attention*\n{text.escape(message.problem)}"),
        request_fields(view, requester=True),
        context(*state_lines(view) or [inert(view.status.value)]),
    ]
    return Rendered(fallback(f"Gatepass needs attention: request {inert(view.id)}"), blocks)
