"""Approve, Deny, and the approver card's user-specific refresh.

Each reads the request through core's door first, so whoever is no party of it is refused with
a message and sees no card of it; a party who may not decide sees the card without buttons.
"""

from __future__ import annotations

from bot.teams.actions.base import Answer, Click, show
from bot.teams.cards import verbs
from bot.teams.cards.elements import Notice
from core.domain.errors import AlreadyDecided, InvalidRequest, NotAllowed
from core.domain.messages import ApprovalRequested
from core.domain.views import RequestView
from core.use_cases import approvals, grants


def as_seen_by(click: Click, view: RequestView) -> ApprovalRequested:
    """The approval message from the clicker's point of view (also for non-approvers; an
    integration owner's carries "Revoke now" while the access is active)."""
    return grants.approval_copy(click.ctx, view, click.actor)


async def refresh(click: Click) -> Answer:
    """The card as this user may see it: buttons only while they may still decide."""
    view = await click.view()
    return show(await click.cards.approval(as_seen_by(click, view)))


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
        message = as_seen_by(click, await click.view())
        if error.field == verbs.REASON:
            card = await click.cards.approval(message, reason=reason, reason_error=str(error))
        else:
            card = await click.cards.approval(message, reason=reason, notice=Notice(str(error)))
        return show(card)
    except (AlreadyDecided, NotAllowed) as error:
        message = as_seen_by(click, await click.view())
        return show(await click.cards.approval(message, notice=Notice(str(error))))
    done = "approved" if outcome == approvals.APPROVE else "denied"
    notice = Notice(f"You {done} request {result.request.id}.", ok=True)
    return show(await click.cards.approval(as_seen_by(click, result.request), notice=notice))


async def approve(click: Click) -> Answer:
    return await _decide(click, approvals.APPROVE)


async def deny(click: Click) -> Answer:
    return await _decide(click, approvals.DENY)
