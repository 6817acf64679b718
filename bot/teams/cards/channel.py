"""The approval ask as posted to a flow's approval channel, for everyone in it to see.

The DM card's content — who asks for what, on which resource, for how long, why — with the
approvers and why each was chosen in place of "why you". While the request is pending the card
carries the reason input and Approve / Deny for everyone (core refuses whoever is not a routed
approver, privately); ``refresh`` lists the approvers' Teams ids, so that an approver who has
decided sees the card without buttons. Nothing of the access itself is ever on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.teams.cards import verbs
from bot.teams.cards.approval import ApprovalOptions, _decision_inputs
from bot.teams.cards.common import (
    approvals_progress,
    approver_rows,
    justification,
    parts,
    pending_until,
    request_facts,
    state_lines,
)
from bot.teams.cards.elements import Element, Notice, card, execute, heading, line, note, refresh
from core.domain import sentences
from core.domain.channels import ChannelApproval


@dataclass(frozen=True)
class ChannelCardOptions:
    """What the card needs beyond the message: computed by the edge, passed in."""

    viewer: str | None = None  # whose refresh or click this answers (None: the shared card)
    refresh_user_ids: tuple[str, ...] = ()  # the approvers' Teams ids
    reason_required: bool = False
    notice: Notice | None = None
    reason: str = ""
    reason_error: str | None = None


def _buttons(message: ChannelApproval, options: ChannelCardOptions) -> list[Element]:
    view = message.request
    if not view.is_pending:
        return []
    if options.viewer is not None and not view.awaits_decision_from(options.viewer):
        return []
    data = {verbs.REQUEST: view.id}
    return [
        execute("Approve", verb=verbs.CHANNEL_APPROVE, data=data, style="positive"),
        execute("Deny", verb=verbs.CHANNEL_DENY, data=data, style="destructive"),
    ]


def channel_card(message: ChannelApproval, options: ChannelCardOptions | None = None) -> Element:
    options = options or ChannelCardOptions()
    view = message.request
    title = "🔔 Reminder: access request" if message.reminder and view.is_pending else None
    heading_text = sentences.approvers_heading(view.approvals_required)
    body: list[Element] = [
        heading(title or "Access request"),
        line(*parts(sentences.asks_for(view))),
        *request_facts(view),
        justification(view),
        pending_until(view),
        *approver_rows(heading_text, ((a.name, a.reason) for a in view.approvers)),
    ]
    progress = approvals_progress(view)
    if progress is not None:
        body.append(progress)
    if options.notice:
        body.append(options.notice.element())
    actions = _buttons(message, options)
    if actions:
        body += _decision_inputs(
            ApprovalOptions(
                reason_required=options.reason_required,
                reason=options.reason,
                reason_error=options.reason_error,
            )
        )
    elif view.is_pending and options.viewer and view.has_decided(options.viewer):
        body.append(note(sentences.WAITING_FOR_OTHERS))
    elif view.is_pending:
        body.append(note(sentences.WAITING_FOR_APPROVERS))
    else:
        body += state_lines(view)
    return card(
        body,
        actions=actions,
        refresh=refresh(
            verb=verbs.CHANNEL_REFRESH,
            data={verbs.REQUEST: view.id},
            user_ids=options.refresh_user_ids,
        )
        if view.is_pending
        else None,
    )
