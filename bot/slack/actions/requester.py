"""The requester's buttons: Cancel, Reveal password, Extend (and its modal), I'm done.

Every click first reads its request through core's door, so someone who is no party of it is
refused privately before any modal opens and learns nothing about it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ids
from bot.slack.actions.base import Click, ClickHandler, FollowUp, Modal, Submission, listen
from bot.slack.blocks import modals, render
from bot.slack.deps import Deps
from bot.slack.form import DURATION, JUSTIFICATION
from bot.slack.replies import error_text, metadata
from core.domain.durations import parse_duration
from core.domain.errors import GatepassError, InvalidRequest
from core.domain.messages import AccessReady, RequestReceived
from core.domain.views import RequestView
from core.use_cases import grants, reads, requests

REVEAL_TITLE = "Your password"
EXTEND_TITLE = "Extend access"


async def _cancel(click: Click) -> None:
    current = await click.own()
    view = await requests.cancel(
        click.ctx, actor=click.actor, request_id=current.id, platform=click.deps.platform
    )
    await click.replace(render(RequestReceived(view)))


async def _done(click: Click) -> None:
    """I'm done: the requester ends their access; an integration owner may too (revoke rule)."""
    current = await click.request()
    view = await grants.revoke(
        click.ctx,
        actor=click.actor,
        request_id=current.id,
        reason="ended by the requester",
        platform=click.deps.platform,
    )
    await click.tell(f":lock: Removing your access now (request {view.id}).")


async def _open(click: Click, client: AsyncWebClient, title: str) -> dict[str, Any] | None:
    """A modal saying "one moment", opened now (the trigger dies in 3 s); None if Slack
    refused it (the person is told to click again)."""
    try:
        return dict(
            (await client.views_open(trigger_id=click.trigger_id, view=modals.loading(title)))[
                "view"
            ]
        )
    except SlackApiError as error:
        click.deps.logger.warning("could not open a modal for %s: %s", click.user_id, error)
        await click.tell(":warning: Slack did not open the window in time; click again.")
        return None


async def _fill(click: Click, client: AsyncWebClient, opened: dict[str, Any], view: Any) -> None:
    try:
        await client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)
    except SlackApiError as error:
        click.deps.logger.warning("could not fill the modal of %s: %s", click.user_id, error)


async def _reveal(click: Click) -> None:
    """Open the modal first: if Slack refuses (a stale trigger), the password stays waiting."""
    current = await click.own()
    client = click.deps.reveal_client
    opened = await _open(click, client, REVEAL_TITLE)
    if opened is None:
        return
    revealed: RequestView | None = None
    try:
        password = await grants.reveal_password(
            click.ctx, actor=click.actor, request_id=current.id, platform=click.deps.platform
        )
        revealed = await click.own()
        view = modals.reveal_modal(view=revealed, password=password.reveal())
    except GatepassError as error:
        view = modals.notice(REVEAL_TITLE, error_text(error))
    await _fill(click, client, opened, view)
    if revealed is not None:
        await click.replace(render(AccessReady(revealed, password_waiting=False)))


async def _extend(click: Click) -> None:
    current = await click.own()
    opened = await _open(click, click.deps.client, EXTEND_TITLE)
    if opened is None:
        return
    try:
        offered = await reads.extension_choices(click.ctx, current.id, viewer=click.actor)
        view = modals.extend_modal(
            view=offered.request,
            durations=list(offered.durations),
            private_metadata=metadata(request=current.id),
        )
    except GatepassError as error:
        view = modals.notice(EXTEND_TITLE, error_text(error))
    await _fill(click, click.deps.client, opened, view)


async def _extend_submitted(submission: Submission) -> FollowUp:
    current = await submission.own()
    try:
        duration = parse_duration(submission.selected(DURATION, ids.DURATION_SELECT))
    except ValueError:
        raise InvalidRequest("Choose how long to extend by.", field=DURATION) from None
    justification = submission.typed(JUSTIFICATION, ids.JUSTIFICATION_INPUT)
    await requests.check_extension(
        submission.ctx,
        actor=submission.actor,
        request_id=current.id,
        duration=duration,
        justification=justification,
    )

    async def ask() -> None:  # the new request's receipt DM comes from the notify_requester job
        await requests.extend(
            submission.ctx,
            actor=submission.actor,
            request_id=current.id,
            duration=duration,
            justification=justification,
            platform=submission.deps.platform,
        )

    return ask


ACTIONS: dict[str, ClickHandler] = {
    ids.CANCEL_REQUEST: _cancel,
    ids.DONE: _done,
    ids.REVEAL_PASSWORD: _reveal,
    ids.EXTEND: _extend,
}
MODALS: dict[str, Modal] = {
    ids.EXTEND_SUBMIT: Modal(
        _extend_submitted,
        title=EXTEND_TITLE,
        trouble=DURATION,
        fields={DURATION: DURATION, JUSTIFICATION: JUSTIFICATION},
    ),
}


def register(app: AsyncApp, deps: Deps) -> None:
    listen(app, deps, clicks=ACTIONS, submissions=MODALS)
