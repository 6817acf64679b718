"""The request form's two buttons: Update choices and Submit request."""

from __future__ import annotations

from bot.teams.actions.base import Answer, Click, show
from bot.teams.cards.form import request_form_card, submitted_card
from bot.teams.form import input_from
from core.domain.request_form import RequestForm
from core.use_cases import request_form


async def refresh(click: Click) -> Answer:
    filled = input_from(click.data)
    form = await request_form.build(click.ctx, requester=click.actor, filled=filled)
    return show(request_form_card(form))


async def submit(click: Click) -> Answer:
    """The request is in, or the form comes back with what to fix (nothing is stored)."""
    outcome = await request_form.submit(
        click.ctx, requester=click.actor, filled=input_from(click.data), platform=click.platform
    )
    if isinstance(outcome, RequestForm):
        return show(request_form_card(outcome))
    return show(submitted_card(outcome))
