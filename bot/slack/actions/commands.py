"""Entry points: the slash command (``help``, ``list``, ``pending``, or the request modal) and
the global shortcut "Request access"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.slack import ids, text
from bot.slack.actions.form import open_request_modal
from bot.slack.blocks.lists import pending_list, requests_list
from bot.slack.deps import Deps
from bot.slack.replies import actor, error_text
from core.domain.errors import GatepassError
from core.use_cases import reads

REQUEST_WORDS = ("", "request", "new")


def help_text(command: str) -> str:
    return "\n".join(
        [
            "*Gatepass*: just-in-time, time-bound access to MongoDB Atlas.",
            f"• `{command}`: request access (a form opens)",
            f"• `{command} list`: your recent requests",
            f"• `{command} pending`: requests waiting for your decision",
            f"• `{command} help`: this help",
            "The *Request access* shortcut and the app's Home tab work too.",
        ]
    )


async def _list(deps: Deps, body: dict[str, Any], respond: AsyncRespond, which: str) -> None:
    try:
        email = await deps.identity.email_for(actor(body))
        if which == "pending":
            rendered = pending_list(await reads.pending_for(deps.ctx, viewer=email), me=email)
        else:
            rendered = requests_list(await reads.my_requests(deps.ctx, viewer=email, limit=10))
    except GatepassError as error:
        await respond(text=error_text(error), response_type="ephemeral")
        return
    await respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(deps.command)
    async def command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        words = str(body.get("text") or "").strip().lower().split()
        word = words[0] if words else ""
        if word in REQUEST_WORDS:
            await ack()
            await deps.in_flight.after_ack()
            stranger = await open_request_modal(
                deps, user_id=actor(body), trigger_id=body["trigger_id"]
            )
            if stranger is not None:
                await respond(text=error_text(stranger), response_type="ephemeral")
        elif word in ("list", "pending"):
            await ack()
            await deps.in_flight.after_ack()
            await _list(deps, body, respond, word)
        elif word in ("help", "?"):
            await ack(text=help_text(deps.command), response_type="ephemeral")
        else:
            unknown = text.escape(word[:30], single_line=True)
            await ack(
                text=f"I don't know “{unknown}”.\n" + help_text(deps.command),
                response_type="ephemeral",
            )

    @app.shortcut(ids.REQUEST_ACCESS)
    async def shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await deps.in_flight.after_ack()
        user_id = actor(body)
        stranger = await open_request_modal(deps, user_id=user_id, trigger_id=body["trigger_id"])
        if stranger is not None:
            try:
                await deps.client.chat_postMessage(channel=user_id, text=error_text(stranger))
            except SlackApiError as error:
                deps.logger.warning("could not tell %s: %s", user_id, error)
