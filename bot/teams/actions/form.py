"""The request form's two buttons: Update choices and Submit request."""

from __future__ import annotations

from bot.teams.actions.base import Answer, Click, Later, show
from bot.teams.cards.form import request_form_card, submitted_card
from bot.teams.form import input_from
from core.domain.request_form import RequestForm
from core.use_cases import request_form


async def refresh(click: Click) -> Answer:
    filled = input_from(click.data)
    form = await request_form.build(click.ctx, requester=click.actor, filled=filled)
    return show(request_form_card(form))


async def submit(click: Click) -> Answer | Later:
    """Checked by reading only: the form comes back with what to fix (nothing is stored), or
    the request is answered as sent and stored after the answer (when something changed in
    between, the form with what to fix replaces the answer)."""
    filled = input_from(click.data)
    checked = await request_form.validate(click.ctx, requester=click.actor, filled=filled)
    if isinstance(checked, RequestForm):
        return show(request_form_card(checked))
    request_id = request_form.new_request_id()

    async def store() -> Answer | None:
        stored = await request_form.submit_draft(
            click.ctx,
            requester=click.actor,
            draft=checked.draft,
            filled=filled,
            platform=click.platform,
            request_id=request_id,
        )
        return show(request_form_card(stored)) if isinstance(stored, RequestForm) else None

    sent = submitted_card(request_id, checked.draft, break_glass=checked.break_glass)
    return Later(show(sent), store)
