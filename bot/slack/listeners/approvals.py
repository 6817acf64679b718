"""Approve and Deny: from an approval DM, the ``pending`` list or the Home tab.

A click first asks core to decide without a reason. Core answers with the decision, with why the
clicker may not decide (not an approver, the requester, already decided, unknown request), or
with "a reason is required" — only then does the reason modal open. Authorization is therefore
always core's, from the clicker's identity; a button's value is only ever a request id.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from bot.slack.blocks import modals, render
from bot.slack.blocks.common import Rendered
from bot.slack.deps import Deps
from bot.slack.replies import (
    SLACK_TROUBLE,
    actor,
    clicked_value,
    error_text,
    metadata,
    origin,
    read_metadata,
    replace_message,
    tell,
)
from core.domain.errors import (
    AlreadyDecided,
    ApprovalReasonRequired,
    DenyReasonRequired,
    GatepassError,
    InvalidRequest,
)
from core.domain.messages import ApprovalRequested
from core.domain.views import ApproverView, RequestView
from core.storage import request_views
from core.use_cases import approvals

OUTCOME = {ids.APPROVE: approvals.APPROVE, ids.DENY: approvals.DENY}
REASON_VIEWS = {ids.APPROVE_REASON: approvals.APPROVE, ids.DENY_REASON: approvals.DENY}


def approval_message(view: RequestView, email: str) -> Rendered:
    """The approver's message as it stands now (the same render the update job uses)."""
    approver = view.approver(email) or ApproverView(email, email, "")
    return render(ApprovalRequested(view, approver))


async def _current(deps: Deps, request_id: str) -> RequestView:
    async with deps.ctx.store.reading() as session:
        return await request_views.load_view(session, deps.ctx.directory, request_id)


async def _clicked(deps: Deps, body: dict[str, Any], outcome: str) -> None:
    user_id, request_id, where = actor(body), clicked_value(body), origin(body)
    try:
        email = await deps.identity.email_for(user_id)
        result = await approvals.decide(
            deps.ctx,
            approver=email,
            request_id=request_id,
            outcome=outcome,
            reason=None,
            platform=deps.platform,
        )
    except (ApprovalReasonRequired, DenyReasonRequired):
        await _ask_reason(deps, body, request_id, outcome, where)
        return
    except AlreadyDecided as error:
        view = await _current(deps, request_id)
        await replace_message(
            deps, user_id=user_id, where=where, rendered=approval_message(view, email)
        )
        await tell(deps, body, error_text(error))
        return
    except GatepassError as error:
        await tell(deps, body, error_text(error))
        return
    await replace_message(
        deps, user_id=user_id, where=where, rendered=approval_message(result.request, email)
    )


async def _ask_reason(
    deps: Deps, body: dict[str, Any], request_id: str, outcome: str, where: dict[str, str]
) -> None:
    view = await _current(deps, request_id)
    modal = modals.reason_modal(
        view=view, outcome=outcome, private_metadata=metadata(request=request_id, **where)
    )
    try:
        await deps.client.views_open(trigger_id=body["trigger_id"], view=modal)
    except SlackApiError as error:
        deps.logger.warning("could not open the reason modal: %s", error)
        await tell(deps, body, ":warning: Slack did not open the form in time; click again.")


async def _reason_submitted(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    outcome = REASON_VIEWS[view["callback_id"]]
    context = read_metadata(view)
    request_id = context.pop("request", "")
    values = view.get("state", {}).get("values", {})
    reason = (values.get(modals.REASON_BLOCK, {}).get(ids.REASON_INPUT) or {}).get("value")
    user_id = actor(body)
    try:
        email = await deps.identity.email_for(user_id)
        result = await approvals.decide(
            deps.ctx,
            approver=email,
            request_id=request_id,
            outcome=outcome,
            reason=reason,
            platform=deps.platform,
        )
    except InvalidRequest as error:
        await ack(response_action="errors", errors={modals.REASON_BLOCK: str(error)[:1000]})
        return
    except GatepassError as error:
        await ack(response_action="update", view=modals.notice("Gatepass", error_text(error)))
        return
    except SlackApiError as error:  # users.info failed: the approver can submit again
        deps.logger.warning("could not identify %s: %s", user_id, error)
        await ack(response_action="errors", errors={modals.REASON_BLOCK: SLACK_TROUBLE})
        return
    await ack()
    await deps.in_flight.after_ack()
    await replace_message(
        deps, user_id=user_id, where=context, rendered=approval_message(result.request, email)
    )


def register(app: AsyncApp, deps: Deps) -> None:
    async def clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await deps.in_flight.after_ack()
        await _clicked(deps, body, OUTCOME[body["actions"][0]["action_id"]])

    async def reason_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await _reason_submitted(deps, ack, body, view)

    for action_id in OUTCOME:
        app.action(action_id)(clicked)
    for callback_id in REASON_VIEWS:
        app.view(callback_id)(reason_submitted)
