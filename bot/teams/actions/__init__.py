"""``Action.Execute`` verbs → the use case behind each button, answered with a card.

Each handler about a request reads it through core's door first (``Click.view``), then calls
one core use case and answers with the card the user should now see. A GatepassError that a
handler does not show on its card — a non-party's refusal among them — is answered with a
private message that carries nothing of the request; nothing else is caught here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from bot.teams.actions import approvals, break_glass, channel, form, requester, revoke
from bot.teams.actions.base import Answer, Click, Handler, Later, say
from bot.teams.cards import verbs
from core.domain.errors import GatepassError

HANDLERS: dict[str, Handler] = {
    verbs.FORM_REFRESH: form.refresh,
    verbs.FORM_SUBMIT: form.submit,
    verbs.APPROVAL_REFRESH: approvals.refresh,
    verbs.APPROVE: approvals.approve,
    verbs.DENY: approvals.deny,
    verbs.CANCEL: requester.cancel,
    verbs.REVEAL: requester.reveal,
    verbs.HIDE: requester.hide,
    verbs.DONE: requester.done,
    verbs.EXTEND: requester.extend,
    verbs.CHANNEL_REFRESH: channel.refresh,
    verbs.CHANNEL_APPROVE: channel.approve,
    verbs.CHANNEL_DENY: channel.deny,
    verbs.BREAK_GLASS_ACKNOWLEDGE: break_glass.acknowledge,
    verbs.BREAK_GLASS_FLAG: break_glass.flag,
    verbs.REVOKE: revoke.revoke,
}

ANSWERED_ONLY_IN_TIME = frozenset(
    {verbs.REVEAL, verbs.FORM_REFRESH, verbs.APPROVAL_REFRESH, verbs.CHANNEL_REFRESH}
)
"""Verbs whose answer is never delivered late. A revealed password goes only into the invoke's
own answer (a late card would go through the Bot Connector, where no password ever goes), and
it is erased as it is handed over, so the reveal waits for its write. A refresh is one
person's view of a card (Teams shows the answer to that person only): delivered late it would
replace the posted card for everyone in the conversation, a channel included. Refreshes only
read, so they never wait on a writer."""


async def run(verb: str, click: Click) -> Answer | Later:
    handler = HANDLERS.get(verb)
    if handler is None:
        return say("Gatepass does not know this button; the card may be out of date.")
    try:
        answer = await handler(click)
    except GatepassError as error:
        return say(str(error))
    if isinstance(answer, Later):
        return Later(answer.now, partial(_refusals_said, answer.then))
    return answer


async def _refusals_said(then: Callable[[], Awaitable[Answer | None]]) -> Answer | None:
    try:
        return await then()
    except GatepassError as error:
        return say(str(error))


__all__ = ["ANSWERED_ONLY_IN_TIME", "HANDLERS", "Click", "Later", "run"]
