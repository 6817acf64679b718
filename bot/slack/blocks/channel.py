"""The approval ask as posted to a flow's approval channel, for everyone there to see.

The same content as an approver's DM — who asks for what, on which resource, for how long,
why — with the approvers and why each was chosen in place of "why you", and the Approve / Deny
buttons while the request is pending (only its approvers may use them: core refuses anyone
else). Nothing of the access itself ever appears here: no connection details, no password.
Registered with ``messages.render``, so the notifier posts it like any other channel message.
"""

from __future__ import annotations

from bot.slack import ids
from bot.slack.blocks.common import (
    Block,
    Rendered,
    actions,
    approvals_progress,
    approvers_list,
    button,
    context,
    fallback,
    inert,
    inline,
    justification,
    phrase,
    request_fields,
    section,
    state_lines,
)
from bot.slack.blocks.messages import render
from core.domain import sentences
from core.domain.channels import ChannelApproval, channel_summary


@render.register
def channel_approval(message: ChannelApproval) -> Rendered:
    view = message.request
    lead = phrase(sentences.asks_for(view))
    if message.reminder and view.is_pending:
        lead = f":bell: *Reminder:* {lead}"
    heading = sentences.approvers_heading(view.approvals_required)
    blocks: list[Block] = [
        section(lead),
        request_fields(view),
        justification(view),
        section(approvers_list(heading, ((a.name, a.reason) for a in view.approvers))),
        context(inline(sentences.pending_until(view))),
    ]
    progress = approvals_progress(view)
    if progress:
        blocks.append(context(progress))
    if view.is_pending:
        blocks.append(
            actions(
                button("Approve", action_id=ids.CHANNEL_APPROVE, value=view.id, style="primary"),
                button("Deny", action_id=ids.CHANNEL_DENY, value=view.id, style="danger"),
                block_id=f"channel-decide:{view.id}",
            )
        )
    else:
        blocks.append(section("\n".join(state_lines(view)) or inert(view.status.value)))
    return Rendered(fallback(channel_summary(message)), blocks)
