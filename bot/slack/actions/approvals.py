"""Approve and Deny: from an approval DM, the ``pending`` list or the Home tab.

A click first reads the request through core's door (a non-party is refused and learns
nothing), then asks core to decide without a reason. Core answers with the decision, with why
the clicker may not decide (not an approver, the requester, already decided), or with "a reason
is required" — only then does the reason modal open. Authorization is therefore always core's,
from the clicker's identity; a button's value is only ever a request id.
"""

from __future__ import annotations

from functools import partial

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from bot.slack.actions.base import Click, ClickHandler, FollowUp, Modal, Submission, listen
from bot.slack.blocks import modals, render
from bot.slack.blocks.common import Rendered
from bot.slack.deps import Deps
from bot.slack.replies import error_text, metadata, replace_message
from core.context import Context
from core.domain.errors import AlreadyDecided, ApprovalReasonRequired, DenyReasonRequired
from core.domain.views import RequestView
from core.use_cases import approvals, grants


def approval_message(ctx: Context, view: RequestView, email: str) -> Rendered:
    """The approver's message as it stands now (the same render the update job uses)."""
    return render(grants.approval_copy(ctx, view, email))


async def _clicked(click: Click, outcome: str) -> None:
    current = await click.request()
    try:
        result = await approvals.decide(
            click.ctx,
            approver=click.actor,
            request_id=current.id,
            outcome=outcome,
            reason=None,
            platform=click.deps.platform,
        )
    except (ApprovalReasonRequired, DenyReasonRequired):
        await _ask_reason(click, current, outcome)
        return
    except AlreadyDecided as error:
        await click.replace(approval_message(click.ctx, await click.request(), click.actor))
        await click.tell(error_text(error))
        return
    await click.replace(approval_message(click.ctx, result.request, click.actor))


async def _ask_reason(click: Click, current: RequestView, outcome: str) -> None:
    modal = modals.reason_modal(
        view=current, outcome=outcome, private_metadata=metadata(request=current.id, **click.where)
    )
    try:
        await click.deps.client.views_open(trigger_id=click.trigger_id, view=modal)
    except SlackApiError as error:
        click.deps.logger.warning("could not open the reason modal: %s", error)
        await click.tell(":warning: Slack did not open the form in time; click again.")


async def _reason_submitted(submission: Submission, *, outcome: str) -> FollowUp:
    current = await submission.request()
    reason = submission.typed(modals.REASON_BLOCK, ids.REASON_INPUT) or None
    await approvals.check_decision(
        submission.ctx,
        approver=submission.actor,
        request_id=current.id,
        outcome=outcome,
        reason=reason,
    )
    where = {key: value for key, value in submission.metadata.items() if key != "request"}

    async def bring_up_to_date() -> None:
        result = await approvals.decide(
            submission.ctx,
            approver=submission.actor,
            request_id=current.id,
            outcome=outcome,
            reason=reason,
            platform=submission.deps.platform,
        )
        await replace_message(
            submission.deps,
            user_id=submission.user_id,
            where=where,
            rendered=approval_message(submission.ctx, result.request, submission.actor),
        )

    return bring_up_to_date


ACTIONS: dict[str, ClickHandler] = {
    ids.APPROVE: partial(_clicked, outcome=approvals.APPROVE),
    ids.DENY: partial(_clicked, outcome=approvals.DENY),
}
MODALS: dict[str, Modal] = {
    callback_id: Modal(
        partial(_reason_submitted, outcome=outcome),
        title="Gatepass",
        trouble=modals.REASON_BLOCK,
        other_fields=modals.REASON_BLOCK,
    )
    for callback_id, outcome in (
        (ids.APPROVE_REASON, approvals.APPROVE),
        (ids.DENY_REASON, approvals.DENY),
    )
}


def register(app: AsyncApp, deps: Deps) -> None:
    listen(app, deps, clicks=ACTIONS, submissions=MODALS)
