"""Card actions answered in time, whatever the database is doing.

An ``Action.Execute`` is answered with the card the person should now see, and that card
usually comes from a write (a decision, a request stored). A write can wait on a lock: when the
answer is not ready within :data:`ANSWER_WITHIN`, the invoke is answered with a "working on
it" card, the action goes on, and its card replaces the clicked one when it is done (through
the Bot Connector, like every other update of a posted card). Nothing is lost or done twice:
the action runs once either way.

An invoke's answer is shown to the person who clicked alone, but a card replaced through the
Bot Connector changes for everyone in the conversation. So in a channel or a group chat a late
answer never goes onto the clicked card (an outsider's refusal, or one approver's view, would
replace the ask for everyone): it goes to the clicker's personal chat with the app, and the
shared card changes only as the notice jobs bring it to its state for everyone.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ConversationReference,
)

from bot.teams.actions.base import Later
from bot.teams.cards.elements import Element, card, heading, note
from bot.teams.endpoint import CARD_CONTENT_TYPE, card_response
from bot.teams.notifier import card_activity
from bot.teams.references import is_personal

log = logging.getLogger("gatepass.teams")

ANSWER_WITHIN = 0.5
"""Seconds an invoke waits for its action before it is answered with :func:`working_card`."""
SHUTDOWN_GRACE = 10.0

Answer = AdaptiveCardInvokeResponse
Continuation = Callable[[Any, Callable[[TurnContext], Awaitable[None]]], Awaitable[None]]
PersonalChat = Callable[[Activity], Awaitable[ConversationReference | None]]


def working_card(*, shared: bool = False) -> Element:
    """``shared``: clicked in a channel or a group chat, where the answer comes privately."""
    then = (
        "you will find the answer in your chat with Gatepass."
        if shared
        else "this card changes as soon as it is done."
    )
    return card([heading("Working on it"), note(f"Gatepass is doing this now; {then}")])


def _as_card(answer: Answer) -> Element:
    if answer.type == CARD_CONTENT_TYPE and isinstance(answer.value, dict):
        return answer.value
    return card([note(str(answer.value or "Done."), subtle=False)])


class LateAnswers:
    """Answers an invoke within :data:`ANSWER_WITHIN`, and delivers late cards afterwards."""

    def __init__(
        self, *, within: float = ANSWER_WITHIN, personal_chat: PersonalChat | None = None
    ) -> None:
        self.within = within  # seconds an action has before the "working on it" answer
        self._personal_chat = personal_chat
        self._tasks: set[asyncio.Task[None]] = set()
        self._continue: Continuation | None = None

    def attach(self, adapter: BotAdapter, app_id: str | None) -> None:
        """Late cards go through ``adapter`` (the endpoint's, built after the bot)."""

        async def continue_in(reference: Any, callback: Any) -> None:
            await adapter.continue_conversation(reference, callback, app_id)

        self._continue = continue_in

    async def answer(
        self, turn_context: TurnContext, action: Coroutine[Any, Any, Answer | Later]
    ) -> Answer:
        """``action``'s answer when it is ready in time (a :class:`Later`'s ``now``, its
        ``then`` run after), else :func:`working_card`, replaced when the action is done."""
        running = asyncio.ensure_future(action)
        done, _ = await asyncio.wait({running}, timeout=self.within)
        if not done:
            self._after(turn_context, running)
            return card_response(working_card(shared=not is_personal(turn_context.activity)))
        answer = running.result()
        if isinstance(answer, Later):
            self._after(turn_context, asyncio.ensure_future(answer.then()))
            return answer.now
        return answer

    def _after(self, turn_context: TurnContext, running: asyncio.Future[Any]) -> None:
        finish = asyncio.ensure_future(self._deliver(running, turn_context.activity))
        self._tasks.add(finish)
        finish.add_done_callback(self._tasks.discard)

    async def _deliver(self, running: asyncio.Future[Any], clicked: Activity) -> None:
        try:
            answer = await running
            if isinstance(answer, Later):  # late already: its first answer is not worth showing
                answer = await answer.then() or answer.now
            if answer is None:
                return
            shown = _as_card(answer)
        except Exception as error:  # the invoke is answered already: log, and say so on the card
            reference_code = secrets.token_hex(4)
            log.error(
                "Teams card action failed after its answer [reference %s]: %s",
                reference_code,
                type(error).__name__,
                exc_info=error,
            )
            shown = card([note(f"Gatepass could not do that (reference {reference_code}).")])
        await self._show(clicked, shown)

    async def _show(self, clicked: Activity, shown: Element) -> None:
        if self._continue is None:
            log.warning("a late Teams answer has no connector to go through; dropped")
            return
        try:
            await self._put(self._continue, clicked, card_activity(shown))
        except Exception as error:  # the person can look again (the card refreshes itself)
            log.warning("could not deliver a late Teams answer: %s", error)

    async def _put(self, go_on: Continuation, clicked: Activity, activity: Activity) -> None:
        """Onto the clicked card in a personal chat; else as a message to the clicker's own."""
        if is_personal(clicked):
            reference = TurnContext.get_conversation_reference(clicked)
            card_id = clicked.reply_to_id
        else:
            reference, card_id = await self._clickers_chat(clicked), None
            if reference is None:
                return
        if card_id:
            activity.id, activity.type = card_id, ActivityTypes.message

        async def put(turn_context: TurnContext) -> None:
            if card_id:
                await turn_context.update_activity(activity)
            else:
                await turn_context.send_activity(activity)

        await go_on(reference, put)

    async def _clickers_chat(self, clicked: Activity) -> ConversationReference | None:
        found = await self._personal_chat(clicked) if self._personal_chat else None
        if found is None:
            sender = clicked.from_property.id if clicked.from_property else "?"
            log.info(
                "a late Teams answer for %s is not shown: it was asked in a shared"
                " conversation and Gatepass has no personal chat with them",
                sender,
            )
        return found

    async def settled(self) -> None:
        """Until every late answer running now (and any they start) is delivered."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def drain(self, *, within: float = SHUTDOWN_GRACE) -> None:
        """Let the late answers still running finish (for a while) at shutdown."""
        if not self._tasks:
            return
        _done, late = await asyncio.wait(set(self._tasks), timeout=within)
        for task in late:
            task.cancel()


__all__ = ["ANSWER_WITHIN", "LateAnswers", "working_card"]
