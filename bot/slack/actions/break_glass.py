"""Acknowledge and Flag: an integration owner's review of a break-glass use, from the review
request in their DM.

The request is read through core's door first (a non-party is refused and learns nothing); core
decides whether the clicker reviews (an owner, not the requester) and whether someone already
did. The message is brought up to date either way.
"""

from __future__ import annotations

from functools import partial

from slack_bolt.async_app import AsyncApp

from bot.slack import ids
from bot.slack.actions.base import Click, ClickHandler, listen
from bot.slack.blocks import render
from bot.slack.deps import Deps
from bot.slack.replies import error_text
from core.domain.break_glass import AlreadyReviewed, Review
from core.domain.messages import ReviewRequested
from core.use_cases import break_glass


async def _clicked(click: Click, outcome: Review) -> None:
    current = await click.request()
    try:
        done = await break_glass.review(
            click.ctx,
            reviewer=click.actor,
            request_id=current.id,
            outcome=outcome,
            platform=click.deps.platform,
        )
    except AlreadyReviewed as error:
        now = await break_glass.reviewed_use(click.ctx, current.id, viewer=click.actor)
        await click.replace(render(ReviewRequested(now.request, now.review, click.actor)))
        await click.tell(error_text(error))
        return
    await click.replace(render(ReviewRequested(done.request, done.review, click.actor)))


ACTIONS: dict[str, ClickHandler] = {
    ids.BREAK_GLASS_ACKNOWLEDGE: partial(_clicked, outcome=Review.ACKNOWLEDGED),
    ids.BREAK_GLASS_FLAG: partial(_clicked, outcome=Review.FLAGGED),
}


def register(app: AsyncApp, deps: Deps) -> None:
    listen(app, deps, clicks=ACTIONS)
