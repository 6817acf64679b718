"""The approver's card: who asks for what and why, why you, Approve / Deny.

One card for every copy and every moment: while the request is pending and this approver may
still decide it carries a reason input and the two buttons; afterwards it says what happened,
and an integration owner's copy of an active grant carries a required reason and "Revoke now".
``refresh`` lists the approvers' Teams ids, so each of them sees their own view (buttons only
for whoever may still decide) and everybody else sees the card without buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.teams.cards import verbs
from bot.teams.cards.common import (
    approvals_progress,
    fact,
    justification,
    parts,
    pending_until,
    request_facts,
    state_lines,
)
from bot.teams.cards.elements import (
    Element,
    Notice,
    card,
    execute,
    heading,
    line,
    note,
    problem,
    refresh,
    text_input,
)
from core.domain import sentences
from core.domain.lifecycle import Status
from core.domain.messages import ApprovalRequested
from core.use_cases.grants import MAX_REVOKE_REASON
from core.use_cases.requests import MAX_JUSTIFICATION


@dataclass(frozen=True)
class ApprovalOptions:
    """What the card needs beyond the message: computed by the edge, passed in."""

    refresh_user_ids: tuple[str, ...] = ()  # the approvers' Teams ids
    reason_required: bool = False  # the flow wants a reason with every approval
    notice: Notice | None = None  # why the last click changed nothing, shown on top
    reason: str = ""  # the reason typed, kept when the card comes back with an error
    reason_error: str | None = None


def _title(message: ApprovalRequested) -> str:
    view, approver = message.request, message.approver
    if approver.escalation and view.is_pending:
        return "⬆️ Escalated to you: access request"
    if message.reminder and view.is_pending:
        return "🔔 Reminder: access request"
    return "Access request"


def _decision_inputs(options: ApprovalOptions) -> list[Element]:
    label = "Reason (required)" if options.reason_required else "Reason (required to deny)"
    items = [
        text_input(
            verbs.REASON,
            label=label,
            value=options.reason,
            placeholder="Why you approve or deny",
            multiline=True,
            max_length=MAX_JUSTIFICATION,
        )
    ]
    if options.reason_error:
        items.append(problem(options.reason_error))
    return items


def _revoke_inputs(options: ApprovalOptions) -> list[Element]:
    """An integration owner's reason to revoke: required (the requester is told it)."""
    items = [
        text_input(
            verbs.REASON,
            label="Reason (required to revoke; the requester is told)",
            value=options.reason,
            placeholder="Why you revoke this access",
            multiline=True,
            max_length=MAX_REVOKE_REASON,
            required="Say why you revoke this access.",
        )
    ]
    if options.reason_error:
        items.append(problem(options.reason_error))
    return items


def _revoke_button(request_id: str) -> Element:
    return execute(
        "Revoke now", verb=verbs.REVOKE, data={verbs.REQUEST: request_id}, style="destructive"
    )


def approval_card(message: ApprovalRequested, options: ApprovalOptions | None = None) -> Element:
    options = options or ApprovalOptions()
    view, email = message.request, message.approver.email
    body: list[Element] = [
        heading(_title(message)),
        line(*parts(sentences.asks_for(view))),
        *request_facts(view),
        justification(view),
        pending_until(view),
        fact(sentences.why_you(view, email, copy_reason=message.approver.reason)),
    ]
    progress = approvals_progress(view)
    if progress is not None:
        body.append(progress)
    if options.notice:
        body.append(options.notice.element())
    actions: list[Element] = []
    if view.awaits_decision_from(email):
        body += _decision_inputs(options)
        data = {verbs.REQUEST: view.id}
        actions = [
            execute("Approve", verb=verbs.APPROVE, data=data, style="positive"),
            execute("Deny", verb=verbs.DENY, data=data, style="destructive"),
        ]
    elif view.is_pending and view.has_decided(email):
        body.append(note(sentences.WAITING_FOR_OTHERS))
    elif view.is_pending:
        body.append(note(sentences.WAITING_FOR_APPROVERS))
    else:
        body += state_lines(view)
        if message.may_revoke and view.status is Status.ACTIVE:
            body += _revoke_inputs(options)
            actions = [_revoke_button(view.id)]
    return card(
        body,
        actions=actions,
        refresh=refresh(
            verb=verbs.APPROVAL_REFRESH,
            data={verbs.REQUEST: view.id},
            user_ids=options.refresh_user_ids,
        )
        if view.is_pending
        else None,
    )
