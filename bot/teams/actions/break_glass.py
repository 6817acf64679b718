"""Acknowledge and Flag on an owner's break-glass review card.

The request is read through core's door first, so whoever is no party of it is refused with a
message and sees no card of it; core decides whether the clicker reviews and whether someone
already did, and the card comes back in its current state either way.
"""

from __future__ import annotations

from bot.teams.actions.base import Answer, Click, show
from bot.teams.cards.break_glass import review_card
from bot.teams.cards.elements import Notice
from core.domain.break_glass import AlreadyReviewed, NotAReviewer, Review
from core.domain.messages import ReviewRequested
from core.use_cases import break_glass


async def _review(click: Click, outcome: Review) -> Answer:
    current = await click.view()
    try:
        done = await break_glass.review(
            click.ctx,
            reviewer=click.actor,
            request_id=current.id,
            outcome=outcome,
            platform=click.platform,
        )
    except (AlreadyReviewed, NotAReviewer) as error:
        now = await break_glass.reviewed_use(click.ctx, current.id, viewer=click.actor)
        message = ReviewRequested(now.request, now.review, click.actor)
        return show(review_card(message, notice=Notice(str(error))))
    notice = Notice(f"You {outcome.value} break-glass use {done.request.id}.", ok=True)
    return show(review_card(ReviewRequested(done.request, done.review, click.actor), notice=notice))


async def acknowledge(click: Click) -> Answer:
    return await _review(click, Review.ACKNOWLEDGED)


async def flag(click: Click) -> Answer:
    return await _review(click, Review.FLAGGED)
