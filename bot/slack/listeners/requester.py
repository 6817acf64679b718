"""The requester's buttons: Cancel, Reveal password, Extend (and its modal), I'm done."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from bot.slack.blocks import modals, render
from bot.slack.deps import Deps
from bot.slack.forms import DURATION, JUSTIFICATION
from bot.slack.replies import (
    SLACK_TROUBLE,
    actor,
    clicked_value,
    error_text,
    metadata,
    origin,
    read_metadata,
    replace_message,
    tell,
)
from core.domain.durations import parse_duration
from core.domain.errors import GatepassError, InvalidRequest, NotAllowed
from core.domain.messages import AccessReady, RequestReceived
from core.domain.views import RequestView
from core.storage import request_views
from core.use_cases import eligibility, grants, requests

REVEAL_TITLE = "Your password"
EXTEND_TITLE = "Extend access"


async def _own(deps: Deps, email: str, request_id: str) -> RequestView:
    """The request, when it is the person's own (its details are not shown to others)."""
    async with deps.ctx.store.reading() as session:
        view = await request_views.load_view(session, deps.ctx.directory, request_id)
    if view.requester != email:
        raise NotAllowed(f"Request {request_id} is not yours.")
    return view


async def _cancel(deps: Deps, body: dict[str, Any]) -> None:
    user_id = actor(body)
    try:
        email = await deps.identity.email_for(user_id)
        view = await requests.cancel(
            deps.ctx, actor=email, request_id=clicked_value(body), platform=deps.platform
        )
    except GatepassError as error:
        await tell(deps, body, error_text(error))
        return
    await replace_message(
        deps, user_id=user_id, where=origin(body), rendered=render(RequestReceived(view))
    )


async def _done(deps: Deps, body: dict[str, Any]) -> None:
    try:
        email = await deps.identity.email_for(actor(body))
        view = await grants.revoke(
            deps.ctx,
            actor=email,
            request_id=clicked_value(body),
            reason="ended by the requester",
            platform=deps.platform,
        )
    except GatepassError as error:
        await tell(deps, body, error_text(error))
        return
    await tell(deps, body, f":lock: Removing your access now (request {view.id}).")


async def _reveal(deps: Deps, body: dict[str, Any]) -> None:
    """Open the modal first: if Slack refuses (a stale trigger), the password stays waiting."""
    user_id, request_id = actor(body), clicked_value(body)
    client = deps.reveal_client
    try:
        opened = (
            await client.views_open(
                trigger_id=body["trigger_id"], view=modals.loading(REVEAL_TITLE)
            )
        )["view"]
    except SlackApiError as error:
        deps.logger.warning("could not open the reveal modal for %s: %s", user_id, error)
        await tell(deps, body, ":warning: Slack did not open the window in time; click again.")
        return
    revealed: RequestView | None = None
    try:
        email = await deps.identity.email_for(user_id)
        password = await grants.reveal_password(
            deps.ctx, actor=email, request_id=request_id, platform=deps.platform
        )
        revealed = await _own(deps, email, request_id)
        view = modals.reveal_modal(view=revealed, password=password.reveal())
    except GatepassError as error:
        view = modals.notice(REVEAL_TITLE, error_text(error))
    try:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    except SlackApiError as error:
        deps.logger.warning("could not show the reveal modal to %s: %s", user_id, error)
    if revealed is not None:
        rendered = render(AccessReady(revealed, password_waiting=False))
        await replace_message(deps, user_id=user_id, where=origin(body), rendered=rendered)


async def _extend(deps: Deps, body: dict[str, Any]) -> None:
    user_id, request_id = actor(body), clicked_value(body)
    try:
        opened = (
            await deps.client.views_open(
                trigger_id=body["trigger_id"], view=modals.loading(EXTEND_TITLE)
            )
        )["view"]
    except SlackApiError as error:
        deps.logger.warning("could not open the extend modal for %s: %s", user_id, error)
        return
    try:
        email = await deps.identity.email_for(user_id)
        current = await _own(deps, email, request_id)
        offered = eligibility.durations_for(
            deps.ctx, deps.ctx.person(email), requests.draft_again(current)
        )
        view = modals.extend_modal(
            view=current, durations=offered, private_metadata=metadata(request=request_id)
        )
    except GatepassError as error:
        view = modals.notice(EXTEND_TITLE, error_text(error))
    try:
        await deps.client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    except SlackApiError as error:
        deps.logger.warning("could not fill the extend modal for %s: %s", user_id, error)


async def _extend_submitted(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
) -> None:
    values = view.get("state", {}).get("values", {})
    picked = (
        (values.get(DURATION, {}).get(ids.DURATION_SELECT) or {}).get("selected_option")
    ) or {}
    said = (values.get(JUSTIFICATION, {}).get(ids.JUSTIFICATION_INPUT) or {}).get("value") or ""
    try:
        duration = parse_duration(str(picked.get("value", "")))
    except ValueError:
        await ack(response_action="errors", errors={DURATION: "Choose how long to extend by."})
        return
    try:
        email = await deps.identity.email_for(actor(body))
        await requests.extend(
            deps.ctx,
            actor=email,
            request_id=read_metadata(view).get("request", ""),
            duration=duration,
            justification=said,
            platform=deps.platform,
        )
    except InvalidRequest as error:
        if error.field in (DURATION, JUSTIFICATION):
            await ack(response_action="errors", errors={error.field: str(error)[:1000]})
        else:
            await ack(response_action="update", view=modals.notice(EXTEND_TITLE, error_text(error)))
        return
    except GatepassError as error:
        await ack(response_action="update", view=modals.notice(EXTEND_TITLE, error_text(error)))
        return
    except SlackApiError as error:  # users.info failed: the requester can submit again
        deps.logger.warning("could not identify %s: %s", actor(body), error)
        await ack(response_action="errors", errors={DURATION: SLACK_TROUBLE})
        return
    await ack()  # the new request's receipt DM comes from the notify_requester job


def register(app: AsyncApp, deps: Deps) -> None:
    steps = {
        ids.CANCEL_REQUEST: _cancel,
        ids.DONE: _done,
        ids.REVEAL_PASSWORD: _reveal,
        ids.EXTEND: _extend,
    }

    async def clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await deps.in_flight.after_ack()
        await steps[body["actions"][0]["action_id"]](deps, body)

    for action_id in steps:
        app.action(action_id)(clicked)

    @app.view(ids.EXTEND_SUBMIT)
    async def extend_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await _extend_submitted(deps, ack, body, view)
