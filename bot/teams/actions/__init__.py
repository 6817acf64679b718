"""``Action.Execute`` verbs → the use case behind each button, answered with a card.

Each handler about a request reads it through core's door first (``Click.view``), then calls
one core use case and answers with the card the user should now see. A GatepassError that a
handler does not show on its card — a non-party's refusal among them — is answered with a
private message that carries nothing of the request; nothing else is caught here.
"""

from __future__ import annotations

from bot.teams.actions import approvals, form, requester, revoke
from bot.teams.actions.base import Answer, Click, Handler, say
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
    verbs.REVOKE: revoke.revoke,
}


async def run(verb: str, click: Click) -> Answer:
    handler = HANDLERS.get(verb)
    if handler is None:
        return say("Gatepass does not know this button; the card may be out of date.")
    try:
        return await handler(click)
    except GatepassError as error:
        return say(str(error))


__all__ = ["HANDLERS", "Click", "run"]
