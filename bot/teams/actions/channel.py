"""Approve, Deny and refresh on an approval ask posted to a flow's approval channel.

Everyone in the channel may click; core decides who may decide. Each handler reads the request
through core's door first: whoever is no party of it gets a private message (the invoke's
answer, shown to them alone) that carries nothing of the request, and nothing changes; a party
who is not one of its routed approvers (the requester, an integration owner) is answered with
the channel card and why, for their eyes only. A decision answers with the channel card as it
now stands; the update job brings the shared copy and every DM copy to it.
"""

from __future__ import annotations

from bot.teams.actions.base import Answer, Click, show
from bot.teams.cards import verbs
from bot.teams.cards.elements import Notice
from core.domain.channels import ChannelApproval
from core.domain.errors import AlreadyDecided, InvalidRequest, NotAllowed
from core.use_cases import approvals


async def refresh(click: Click) -> Answer:
    """The channel card as this approver may use it: buttons while they may still decide."""
    view = await click.view()
    return show(await click.cards.channel(ChannelApproval(view), viewer=click.actor))


async def _decide(click: Click, outcome: str) -> Answer:
    current = await click.view()
    reason = click.text(verbs.REASON)
    try:
        result = await approvals.decide(
            click.ctx,
            approver=click.actor,
            request_id=current.id,
            outcome=outcome,
            reason=reason,
            platform=click.platform,
        )
    except InvalidRequest as error:
        message = ChannelApproval(await click.view())
        if error.field == verbs.REASON:
            card = await click.cards.channel(
                message, viewer=click.actor, reason=reason, reason_error=str(error)
            )
        else:
            card = await click.cards.channel(
                message, viewer=click.actor, reason=reason, notice=Notice(str(error))
            )
        return show(card)
    except (AlreadyDecided, NotAllowed) as error:
        message = ChannelApproval(await click.view())
        card = await click.cards.channel(message, viewer=click.actor, notice=Notice(str(error)))
        return show(card)
    done = "approved" if outcome == approvals.APPROVE else "denied"
    notice = Notice(f"You {done} request {result.request.id}.", ok=True)
    return show(await click.cards.channel(ChannelApproval(result.request), notice=notice))


async def approve(click: Click) -> Answer:
    return await _decide(click, approvals.APPROVE)


async def deny(click: Click) -> Answer:
    return await _decide(click, approvals.DENY)
