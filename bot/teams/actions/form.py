"""The request form's two buttons: Update choices and Submit request."""

from __future__ import annotations

from dataclasses import replace

from bot.teams.actions.base import Answer, Click, show
from bot.teams.cards import verbs
from bot.teams.cards.form import request_form_card, submitted_card
from bot.teams.form import build_form, choices_from, draft_from
from core.domain.errors import GatepassError, InvalidRequest
from core.use_cases import requests


async def refresh(click: Click) -> Answer:
    person = click.ctx.person(click.actor)
    choices, errors = choices_from(click.data)
    return show(request_form_card(await build_form(click.ctx, person, choices, errors=errors)))


async def submit(click: Click) -> Answer:
    person = click.ctx.person(click.actor)
    sent, errors = choices_from(click.data)
    form = await build_form(click.ctx, person, sent, errors=errors)
    if errors:
        return show(request_form_card(form))
    draft = draft_from(sent, form)
    if isinstance(draft, dict):
        return show(request_form_card(replace(form, errors=draft)))
    try:
        view = await requests.submit(
            click.ctx, requester=click.actor, draft=draft, platform=click.platform
        )
    except InvalidRequest as error:
        if error.field in verbs.FORM_FIELDS:
            return show(request_form_card(replace(form, errors={error.field: str(error)})))
        return show(request_form_card(replace(form, problem=str(error))))
    except GatepassError as error:
        return show(request_form_card(replace(form, problem=str(error))))
    return show(submitted_card(view))
