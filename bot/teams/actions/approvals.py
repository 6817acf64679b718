"""Approve, Deny, and the approver card's user-specific refresh.

Each reads the request through core's door first, so whoever is no party of it is refused with
a message and sees no card of it; a party who may not decide sees the card without buttons.
"""

from __future__ import annotations

from bot.teams.actions.base import Answer, Click, Later, show
from bot.teams.cards import verbs
from bot.teams.cards.elements import Notice
from core.domain.errors import AlreadyDecided, GatepassError, InvalidRequest, NotAllowed
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


async def _decide(click: Click, outcome: str) -> Answer | Later:
    """Checked by reading only and answered at once; decided after the answer, whose card
    then replaces it (and a lost race says who decided first)."""
    current = await click.view()
    reason = click.text(verbs.REASON)
    try:
        await approvals.check_decision(
            click.ctx, approver=click.actor, request_id=current.id, outcome=outcome, reason=reason
        )
    except GatepassError as error:
        return await _refused(click, error, reason)
    doing = "approval" if outcome == approvals.APPROVE else "denial"
    recording = Notice(f"Recording your {doing} of request {current.id}…", ok=True)
    now = show(await click.cards.approval(as_seen_by(click, current), notice=recording))

    async def decided() -> Answer:
        try:
            result = await approvals.decide(
                click.ctx,
                approver=click.actor,
                request_id=current.id,
                outcome=outcome,
                reason=reason,
                platform=click.platform,
            )
        except GatepassError as error:
            return await _refused(click, error, reason)
        done = "approved" if outcome == approvals.APPROVE else "denied"
        notice = Notice(f"You {done} request {result.request.id}.", ok=True)
        message = as_seen_by(click, result.request)
        return show(await click.cards.approval(message, notice=notice))

    return Later(now, decided)


async def _refused(click: Click, error: GatepassError, reason: str) -> Answer:
    """The card again with why: beside the reason, or as a notice; other refusals propagate."""
    if not isinstance(error, InvalidRequest | AlreadyDecided | NotAllowed):
        raise error
    message = as_seen_by(click, await click.view())
    if isinstance(error, InvalidRequest) and error.field == verbs.REASON:
        card = await click.cards.approval(message, reason=reason, reason_error=str(error))
    elif isinstance(error, InvalidRequest):
        card = await click.cards.approval(message, reason=reason, notice=Notice(str(error)))
    else:
        card = await click.cards.approval(message, notice=Notice(str(error)))
    return show(card)


async def approve(click: Click) -> Answer:
    return await _decide(click, approvals.APPROVE)


async def deny(click: Click) -> Answer:
    return await _decide(click, approvals.DENY)
