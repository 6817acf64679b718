"""The request modal: opened at once, filled after; its dependent choices; resource search;
the submission (field errors come back on the modal)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from bot.slack.blocks import modals
from bot.slack.deps import Deps
from bot.slack.form import error_block, input_from_state
from bot.slack.replies import SLACK_TROUBLE, actor, clicked_value, error_text, tell
from bot.slack.text import escape
from core.domain.errors import GatepassError, NotInDirectory
from core.domain.request_form import JUSTIFICATION, FormInput, RequestForm
from core.use_cases import request_form

TITLE = modals.TITLE
MAX_ERROR = 1000
CHOICES = (
    ids.INTEGRATION_SELECT,
    ids.RESOURCE_SELECT,
    ids.COLLECTION_INPUT,
    ids.PERMISSION_SELECT,
    ids.DURATION_SELECT,
)


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
        filled = (
            await request_form.again(deps.ctx, requester=email, request_id=again)
            if again
            else FormInput()
        )
        form = await request_form.build(deps.ctx, requester=email, filled=filled)
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
        filled = input_from_state(current.get("state", {}).get("values", {}))
        try:
            email = await deps.identity.email_for(actor(body))
            form = await request_form.build(deps.ctx, requester=email, filled=filled)
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
    filled = input_from_state(values)
    if not filled.integration:
        await ack(options=[])
        return
    try:
        email = await deps.identity.email_for(actor(body))
        found = await request_form.search_resources(
            deps.ctx,
            requester=email,
            integration=filled.integration,
            text=str(body.get("value", "")),
        )
    except (GatepassError, SlackApiError):
        await ack(options=[])
        return
    await ack(**modals.resource_options(found))


async def _submitted(deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Checked by reading only, then acked (errors on the modal, or closed), then stored: the
    ack never waits for a database writer."""
    values = view.get("state", {}).get("values", {})
    filled = input_from_state(values)
    try:
        email = await deps.identity.email_for(actor(body))
        checked = await request_form.validate(deps.ctx, requester=email, filled=filled)
    except GatepassError as error:  # not in the directory, or nothing the form can show
        await ack(response_action="update", view=modals.notice(TITLE, error_text(error)))
        return
    except SlackApiError as error:  # users.info failed: the person can simply submit again
        deps.logger.warning("could not identify %s: %s", actor(body), error)
        block = error_block(values, filled, JUSTIFICATION)
        await ack(response_action="errors", errors={block: SLACK_TROUBLE})
        return
    if isinstance(checked, RequestForm):
        await _refused(ack, values, filled, checked)
        return
    await ack()  # closes the modal; the receipt DM comes from the notify_requester job
    await deps.in_flight.after_ack()
    stored = await request_form.submit_draft(
        deps.ctx, requester=email, draft=checked.draft, filled=filled, platform=deps.platform
    )
    if isinstance(stored, RequestForm):  # something changed since the check: say what
        problem = stored.problem or next(iter(stored.errors.values()), "")
        await tell(deps, body, f":warning: Your request was not submitted: {escape(problem)}")


async def _refused(
    ack: AsyncAck, values: dict[str, Any], filled: FormInput, form: RequestForm
) -> None:
    """Errors beside their inputs; a problem of the whole form on the form shown again."""
    if form.errors:
        errors = {
            error_block(values, filled, field): message[:MAX_ERROR]
            for field, message in form.errors.items()
        }
        await ack(response_action="errors", errors=errors)
    else:
        await ack(response_action="update", view=modals.request_modal(form))
