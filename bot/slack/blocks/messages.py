"""The direct messages Gatepass sends, one builder per ``core.domain.messages`` type.

A message is rendered from the request's current state, so the same builder serves the first
post and every later update: once the request has moved on, the buttons that no longer apply
are gone and a line says what happened. The sentences are core's (``core.domain.sentences``).
"""

from __future__ import annotations

from functools import singledispatch

from bot.slack import ids, text
from bot.slack.blocks.common import (
    Block,
    Rendered,
    actions,
    approvals_progress,
    approvers_list,
    button,
    confirm,
    context,
    decision_line,
    fallback,
    fields,
    inert,
    inline,
    justification,
    labelled,
    phrase,
    request_fields,
    section,
    sentence,
    state_lines,
    what,
)
from core.domain import messages, sentences
from core.domain.lifecycle import Status
from core.domain.views import RequestView


@singledispatch
def render(message: object) -> Rendered:
    """The Slack message for one of ``core.domain.messages``."""
    raise TypeError(f"no Slack rendering for {type(message).__name__}")


def _rendered(message: messages.Message, blocks: list[Block]) -> Rendered:
    return Rendered(fallback(sentences.summary(message)), blocks)


def _final_state(view: RequestView) -> Block:
    return section("\n".join(state_lines(view)) or inert(view.status.value))


# --------------------------------------------------------------------------- approvers


@render.register
def approval_request(message: messages.ApprovalRequested) -> Rendered:
    view, approver = message.request, message.approver
    lead = phrase(sentences.asks_for(view))
    if message.reminder and view.is_pending:
        lead = f":bell: *Reminder:* {lead}"
    if approver.escalation:
        lead = f":arrow_up: *Escalated to you:* {lead}"
    blocks: list[Block] = [
        section(lead),
        request_fields(view),
        justification(view),
        context(
            inline(sentences.why_you(view, approver.email, copy_reason=approver.reason)),
            inline(sentences.pending_until(view)),
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
        blocks.append(section(sentences.WAITING_FOR_OTHERS))
    else:
        blocks.append(_final_state(view))
        if message.may_revoke and view.status is Status.ACTIVE:
            blocks.append(_revoke_button(view))
    return _rendered(message, blocks)


def _revoke_button(view: RequestView) -> Block:
    """An integration owner's "Revoke now": it opens a modal asking why."""
    return actions(
        button("Revoke now", action_id=ids.REVOKE_NOW, value=view.id, style="danger"),
        block_id=f"revoke:{view.id}",
    )


# --------------------------------------------------------------------------- requester


@render.register
def request_received(message: messages.RequestReceived) -> Rendered:
    view = message.request
    state = " is in" if view.is_pending else ""
    lead = f"Your request *{inert(view.id)}*{state}: {what(view)}."
    blocks: list[Block] = [section(lead), request_fields(view)]
    if view.approvers:
        heading = sentences.approvers_heading(view.approvals_required)
        listed = approvers_list(heading, ((a.name, a.reason) for a in view.approvers))
        blocks.append(section(listed))
    if not view.is_pending:
        return _rendered(message, [*blocks, _final_state(view)])
    cancel = button(
        "Cancel request",
        action_id=ids.CANCEL_REQUEST,
        value=view.id,
        confirm=confirm(
            "Cancel this request?",
            f"Request {inert(view.id)} will be withdrawn.",
            yes="Cancel request",
        ),
    )
    blocks += [
        context(inline(sentences.pending_until(view))),
        actions(cancel, block_id=f"receipt:{view.id}"),
    ]
    return _rendered(message, blocks)


@render.register
def request_outcome(message: messages.RequestOutcome) -> Rendered:
    view = message.request
    line = decision_line(view) or f"Request {inert(view.id)} is {inert(view.status.value)}."
    blocks: list[Block] = [section(f"Request *{inert(view.id)}*: {what(view)}"), section(line)]
    granted = sentences.access(view)
    if view.status is Status.FAILED and granted is not None:
        blocks.append(section(sentence(granted)))
    elif view.status in (Status.APPROVED, Status.GRANTING) and not view.invited:
        blocks.append(context(sentences.GRANTING_NOTE))
    return _rendered(message, blocks)


def _connection_blocks(view: RequestView) -> list[Block]:
    blocks: list[Block] = [fields(sentences.access_facts(view))]
    blocks += [section(labelled(fact)) for fact in sentences.connection_details(view)]
    notes = [text.escape(note) for note in sentences.connection_notes(view)]
    if notes:
        blocks.append(context(*notes))
    return blocks


@render.register
def access_ready(message: messages.AccessReady) -> Rendered:
    view = message.request
    active = view.status is Status.ACTIVE
    lead = (
        f":unlocked: Your access is ready: {what(view)}" if active else f"Your access: {what(view)}"
    )
    if view.invited:
        lead = f":envelope: {sentences.INVITED_HEADING}: {what(view)}"
    blocks: list[Block] = [section(lead), *_connection_blocks(view)]
    if not active:
        return _rendered(message, [*blocks, _final_state(view)])
    buttons: list[Block] = []
    if message.password_waiting and view.password_waiting:
        buttons.append(
            button("Reveal password", action_id=ids.REVEAL_PASSWORD, value=view.id, style="primary")
        )
        blocks.append(
            context(
                "The password is shown once, in a window only you can see. It is never posted "
                "in this conversation."
            )
        )
    buttons.append(_done_button(view))
    blocks.append(actions(*buttons, block_id=f"ready:{view.id}"))
    return _rendered(message, blocks)


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
def expiry_warning(message: messages.ExpiryWarning) -> Rendered:
    view = message.request
    blocks: list[Block] = [section(f":hourglass_flowing_sand: {phrase(sentences.ends_soon(view))}")]
    if view.status is not Status.ACTIVE:
        return _rendered(message, [*blocks, _final_state(view)])
    blocks += [
        actions(
            button("Extend", action_id=ids.EXTEND, value=view.id, style="primary"),
            _done_button(view),
            block_id=f"expiry:{view.id}",
        ),
        context(sentences.EXTENDING_NOTE),
    ]
    return _rendered(message, blocks)


@render.register
def access_ended(message: messages.AccessEnded) -> Rendered:
    view = message.request
    blocks = [
        section(f":lock: {phrase(sentences.ended(view))}"),
        context(f"Request {inert(view.id)}"),
    ]
    return _rendered(message, blocks)


# --------------------------------------------------------------------------- owners


@render.register
def owner_alert(message: messages.OwnerAlert) -> Rendered:
    view = message.request
    blocks = [
        section(f":warning: *Gatepass needs attention*\n{text.escape(message.problem)}"),
        request_fields(view, requester=True),
        context(*state_lines(view) or [inert(view.status.value)]),
    ]
    return _rendered(message, blocks)
