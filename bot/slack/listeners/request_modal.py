"""The request modal: opened at once, filled after; its dependent choices; resource search;
the submission (field errors come back on the modal)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from bot.slack.blocks import modals
from bot.slack.deps import Deps
from bot.slack.forms import (
    DURATION,
    INTEGRATION,
    JUSTIFICATION,
    PERMISSION,
    RESOURCE,
    Choices,
    build_form,
    choices_from_draft,
    choices_from_state,
    error_block,
    find_resource,
    resources_matching,
)
from bot.slack.replies import SLACK_TROUBLE, actor, clicked_value, error_text
from core.domain.errors import GatepassError, InvalidRequest, NotAllowed, NotInDirectory
from core.storage import request_views
from core.use_cases import requests
from core.use_cases.eligibility import Draft

TITLE = "Request access"
MAX_ERROR = 1000
CHOICES = (ids.INTEGRATION_SELECT, ids.RESOURCE_SELECT, ids.PERMISSION_SELECT, ids.DURATION_SELECT)


async def _again(deps: Deps, email: str, request_id: str) -> Choices:
    async with deps.ctx.store.reading() as session:
        view = await request_views.load_view(session, deps.ctx.directory, request_id)
    if view.requester != email:
        raise NotAllowed(f"Request {request_id} is not yours to request again.")
    return choices_from_draft(requests.draft_again(view))


async def open_request_modal(
    deps: Deps, *, user_id: str, trigger_id: str, again: str | None = None
) -> NotInDirectory | None:
    """Open the modal now (the trigger dies in 3 s), then fill it. Returns the error when the
    person is not in the directory, for the caller to tell them privately as well."""
    try:
        opened = (await deps.client.views_open(trigger_id=trigger_id, view=modals.loading(TITLE)))[
            "view"
        ]
    except SlackApiError as error:
        deps.logger.warning("could not open the request modal for %s: %s", user_id, error)
        return None
    stranger: NotInDirectory | None = None
    try:
        email = await deps.identity.email_for(user_id)
        choices = await _again(deps, email, again) if again else Choices()
        form = await build_form(deps.ctx, deps.ctx.person(email), choices)
        view = modals.request_modal(form)
    except NotInDirectory as error:
        stranger, view = error, modals.notice(TITLE, error_text(error))
    except GatepassError as error:
        view = modals.notice(TITLE, error_text(error))
    await _update(deps, opened, view)
    return stranger


async def _update(deps: Deps, current: dict[str, Any], view: dict[str, Any]) -> None:
    try:
        await deps.client.views_update(view_id=current["id"], hash=current.get("hash"), view=view)
    except SlackApiError as error:
        if error.response.get("error") != "hash_conflict":  # else a newer update won: fine
            deps.logger.warning("could not update modal %s: %s", current.get("id"), error)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ids.OPEN_REQUEST_MODAL)
    async def open_from_home(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await deps.in_flight.after_ack()
        await open_request_modal(deps, user_id=actor(body), trigger_id=body["trigger_id"])

    @app.action(ids.REQUEST_AGAIN)
    async def request_again(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await deps.in_flight.after_ack()
        await open_request_modal(
            deps, user_id=actor(body), trigger_id=body["trigger_id"], again=clicked_value(body)
        )

    async def choice_changed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await deps.in_flight.after_ack()
        current = body.get("view") or {}
        choices = choices_from_state(current.get("state", {}).get("values", {}))
        try:
            email = await deps.identity.email_for(actor(body))
            form = await build_form(deps.ctx, deps.ctx.person(email), choices)
            view = modals.request_modal(form)
        except GatepassError as error:
            view = modals.notice(TITLE, error_text(error))
        await _update(deps, current, view)

    for action_id in CHOICES:
        app.action(action_id)(choice_changed)

    @app.options(ids.RESOURCE_SELECT)
    async def resource_suggestions(ack: AsyncAck, body: dict[str, Any]) -> None:
        await _suggest(deps, ack, body)

    @app.view(ids.REQUEST_SUBMIT)
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await _submitted(deps, ack, body, view)


async def _suggest(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> None:
    """Resources matching what the person typed, among those a flow lets them request."""
    values = (body.get("view") or {}).get("state", {}).get("values", {})
    choices = choices_from_state(values)
    if not choices.integration:
        await ack(options=[])
        return
    try:
        email = await deps.identity.email_for(actor(body))
        found = await resources_matching(
            deps.ctx, deps.ctx.person(email), choices.integration, str(body.get("value", ""))
        )
    except (GatepassError, SlackApiError):
        await ack(options=[])
        return
    await ack(**modals.resource_options(found))


async def _submitted(deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
    values = view.get("state", {}).get("values", {})
    choices = choices_from_state(values)
    try:
        email = await deps.identity.email_for(actor(body))
        draft = await _draft(deps, email, choices)
        await requests.submit(deps.ctx, requester=email, draft=draft, platform=deps.platform)
    except NotInDirectory as error:
        await ack(response_action="update", view=modals.notice(TITLE, error_text(error)))
        return
    except InvalidRequest as error:
        await ack(response_action="errors", errors=_errors(values, choices, error.field, error))
        return
    except GatepassError as error:
        await ack(response_action="errors", errors=_errors(values, choices, None, error))
        return
    except SlackApiError as error:  # users.info failed: the person can simply submit again
        deps.logger.warning("could not identify %s: %s", actor(body), error)
        block = error_block(values, choices, JUSTIFICATION)
        await ack(response_action="errors", errors={block: SLACK_TROUBLE})
        return
    await ack()  # closes the modal; the receipt DM comes from the notify_requester job


def _errors(
    values: dict[str, Any], choices: Choices, field: str | None, error: Exception
) -> dict[str, str]:
    return {error_block(values, choices, field): str(error)[:MAX_ERROR]}


async def _draft(deps: Deps, email: str, choices: Choices) -> Draft:
    """The draft the modal holds; a field error for the first input left empty."""
    person = deps.ctx.person(email)
    if not choices.integration:
        raise InvalidRequest("Choose an integration.", field=INTEGRATION)
    resource = await find_resource(deps.ctx, person, choices.integration, choices.resource)
    if resource is None:
        raise InvalidRequest("Choose a resource.", field=RESOURCE)
    if not choices.permission:
        raise InvalidRequest("Choose a permission.", field=PERMISSION)
    if choices.duration is None:
        # No duration input yet (it appears once a permission is chosen): choose one there.
        field = DURATION if choices.permission else PERMISSION
        raise InvalidRequest("Choose how long you need the access.", field=field)
    return Draft(
        choices.integration,
        resource.type,
        resource.name,
        choices.permission,
        choices.duration,
        choices.justification,
    )
