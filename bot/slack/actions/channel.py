"""Approve and Deny on an approval ask posted to a flow's approval channel.

Everyone in the channel sees the buttons; core decides who may use them. A click reads the
request through core's door (whoever is no party of it is refused privately, with an ephemeral
message, and learns nothing), then asks core to decide: a party who is not one of its routed
approvers (the requester, an integration owner) is refused privately too, and nothing changes.
A decision brings the channel copy up to date at once, as the channel sees it (never as the
approver's DM, whose "why you" is theirs); the update job follows for every other copy. When a
reason is needed the reason modal opens; its submission changes no message itself, the update
job brings every copy, this one included, to the decision.
"""

from __future__ import annotations

from functools import partial

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from bot.slack.actions.base import Click, ClickHandler, listen
from bot.slack.blocks import modals
from bot.slack.blocks.channel import channel_approval
from bot.slack.deps import Deps
from bot.slack.replies import error_text, metadata
from core.domain.channels import ChannelApproval
from core.domain.errors import AlreadyDecided, ApprovalReasonRequired, DenyReasonRequired
from core.domain.views import RequestView
from core.use_cases import approvals


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
        await click.replace(channel_approval(ChannelApproval(await click.request())))
        await click.tell(error_text(error))
        return
    await click.replace(channel_approval(ChannelApproval(result.request)))


async def _ask_reason(click: Click, current: RequestView, outcome: str) -> None:
    """The approvers' reason modal, without where it was opened from: its submission must not
    put the approver's own view of the ask into the channel."""
    modal = modals.reason_modal(
        view=current, outcome=outcome, private_metadata=metadata(request=current.id)
    )
    try:
        await click.deps.client.views_open(trigger_id=click.trigger_id, view=modal)
    except SlackApiError as error:
        click.deps.logger.warning("could not open the reason modal: %s", error)
        await click.tell(":warning: Slack did not open the form in time; click again.")


ACTIONS: dict[str, ClickHandler] = {
    ids.CHANNEL_APPROVE: partial(_clicked, outcome=approvals.APPROVE),
    ids.CHANNEL_DENY: partial(_clicked, outcome=approvals.DENY),
}


def register(app: AsyncApp, deps: Deps) -> None:
    listen(app, deps, clicks=ACTIONS)
