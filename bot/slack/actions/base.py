"""The one shape of the buttons and modals about a request, as the Teams edge has it for its
verbs: a table from action id (or view callback id) to a handler, and one wrapper that acks,
holds the task, finds out who acted and runs the handler.

A handler gets a ``Click`` (or a ``Submission``): who acted (an email Gatepass knows), what
they sent, and ``request()`` — the request read through core's one door, which refuses whoever
is not a party of it. A core refusal (``GatepassError``) is told to the person privately; for a
modal it comes back on the modal. Anything else is left to the app's error handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import modals
from bot.slack.blocks.common import Rendered
from bot.slack.deps import Deps
from bot.slack.replies import (
    SLACK_TROUBLE,
    actor,
    clicked_value,
    error_text,
    origin,
    read_metadata,
    replace_message,
    tell,
)
from core.context import Context
from core.domain.errors import GatepassError, InvalidRequest
from core.domain.views import RequestView
from core.use_cases import reads

MAX_ERROR = 1000


@dataclass(frozen=True)
class _AboutARequest:
    """What a button press and a modal submission share: who acted, and their request read
    through core's door."""

    deps: Deps
    body: dict[str, Any]
    actor: str

    @property
    def ctx(self) -> Context:
        return self.deps.ctx

    @property
    def user_id(self) -> str:
        return actor(self.body)

    @property
    def request_id(self) -> str:
        raise NotImplementedError

    async def request(self) -> RequestView:
        """The request, if the actor is one of its parties (else ``NotAParty``)."""
        return await reads.request_for(self.ctx, self.request_id, viewer=self.actor)

    async def own(self) -> RequestView:
        """The request, if the actor is its requester (else ``NotTheRequester``)."""
        return await reads.own_request(self.ctx, self.request_id, viewer=self.actor)


@dataclass(frozen=True)
class Click(_AboutARequest):
    """One button press about a request: the button's value is only ever its id."""

    @property
    def request_id(self) -> str:
        return clicked_value(self.body)

    @property
    def where(self) -> dict[str, str]:
        return origin(self.body)

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id", ""))

    async def tell(self, mrkdwn: str) -> None:
        await tell(self.deps, self.body, mrkdwn)

    async def replace(self, rendered: Rendered | None) -> None:
        """Bring the message (or Home tab) the person clicked in up to date now."""
        await replace_message(self.deps, user_id=self.user_id, where=self.where, rendered=rendered)


@dataclass(frozen=True)
class Submission(_AboutARequest):
    """One submitted modal about a request, whose id rides in its private metadata."""

    modal: dict[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> dict[str, str]:
        return read_metadata(self.modal)

    @property
    def request_id(self) -> str:
        return self.metadata.get("request", "")

    def _input(self, block_id: str, action_id: str) -> dict[str, Any]:
        values = self.modal.get("state", {}).get("values", {})
        return (values.get(block_id) or {}).get(action_id) or {}

    def typed(self, block_id: str, action_id: str) -> str:
        return str(self._input(block_id, action_id).get("value") or "")

    def selected(self, block_id: str, action_id: str) -> str:
        option = self._input(block_id, action_id).get("selected_option") or {}
        return str(option.get("value", ""))


FollowUp = Callable[[], Awaitable[None]]
ClickHandler = Callable[[Click], Awaitable[None]]
SubmitHandler = Callable[[Submission], Awaitable[FollowUp | None]]
"""A modal's submit handler checks by reading only (a refusal comes back on the modal) and
returns the follow-up that changes things, run after the ack: an ack never waits on a writer."""
ClickListener = Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]
SubmitListener = Callable[[AsyncAck, dict[str, Any], dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Modal:
    """A modal's submit handler, and where its errors are shown: an ``InvalidRequest`` beside
    the input of its field (``fields``; ``other_fields`` for the rest, else a notice), any other
    refusal as a notice titled ``title``, and Slack's own trouble beside ``trouble``."""

    submitted: SubmitHandler
    title: str
    trouble: str
    fields: Mapping[str, str] = field(default_factory=dict)
    other_fields: str | None = None

    def block_for(self, error: InvalidRequest) -> str | None:
        return self.fields.get(error.field or "", self.other_fields)


def listen(
    app: AsyncApp,
    deps: Deps,
    *,
    clicks: Mapping[str, ClickHandler],
    submissions: Mapping[str, Modal] | None = None,
) -> None:
    """Register each button and modal of the tables with the one wrapper."""
    clicked = _on_click(deps, clicks)
    for action_id in clicks:
        app.action(action_id)(clicked)
    submitted = _on_submit(deps, submissions or {})
    for callback_id in submissions or {}:
        app.view(callback_id)(submitted)


def _on_click(deps: Deps, handlers: Mapping[str, ClickHandler]) -> ClickListener:
    async def clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await deps.in_flight.after_ack()
        handler = handlers[str((body.get("actions") or [{}])[0].get("action_id", ""))]
        try:
            click = Click(deps, body, await deps.identity.email_for(actor(body)))
        except SlackApiError as error:  # users.info failed: the person can click again
            deps.logger.warning("could not identify %s: %s", actor(body), error)
            await tell(deps, body, f":warning: {SLACK_TROUBLE}")
            return
        except GatepassError as error:
            await tell(deps, body, error_text(error))
            return
        try:
            await handler(click)
        except GatepassError as error:
            await tell(deps, body, error_text(error))

    return clicked


async def _refuse(ack: AsyncAck, modal: Modal, error: GatepassError) -> None:
    """Answer a submission core refused: beside the input, or on the modal as a notice."""
    block = modal.block_for(error) if isinstance(error, InvalidRequest) else None
    if block is not None:
        await ack(response_action="errors", errors={block: str(error)[:MAX_ERROR]})
    else:
        await ack(response_action="update", view=modals.notice(modal.title, error_text(error)))


def _on_submit(deps: Deps, handlers: Mapping[str, Modal]) -> SubmitListener:
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        modal = handlers[str(view.get("callback_id", ""))]
        try:
            email = await deps.identity.email_for(actor(body))
        except SlackApiError as error:  # users.info failed: the person can submit again
            deps.logger.warning("could not identify %s: %s", actor(body), error)
            await ack(response_action="errors", errors={modal.trouble: SLACK_TROUBLE})
            return
        except GatepassError as error:
            await _refuse(ack, modal, error)
            return
        try:
            follow_up = await modal.submitted(Submission(deps, body, email, modal=view))
        except GatepassError as error:
            await _refuse(ack, modal, error)
            return
        await ack()
        if follow_up is None:
            return
        await deps.in_flight.after_ack()
        try:
            await follow_up()
        except GatepassError as error:  # refused in the write after all: something changed
            await tell(deps, body, error_text(error))

    return submitted
