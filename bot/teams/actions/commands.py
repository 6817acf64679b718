"""The text commands of the personal chat (and the manifest's command menu): request, list,
pending, help."""

from __future__ import annotations

from botbuilder.core import TurnContext

from bot.teams.cards.elements import Element
from bot.teams.cards.form import request_form_card
from bot.teams.cards.lists import help_card, my_requests_card, pending_intro_card
from bot.teams.notifier import card_activity
from bot.teams.render import Cards
from core.context import Context
from core.domain.messages import ApprovalRequested
from core.use_cases import reads
from core.use_cases.request_form import build as build_form

MAX_PENDING_CARDS = 10


def command_of(turn_context: TurnContext) -> str:
    """The command word, without the bot's @mention (group chats put one in the text)."""
    text = TurnContext.remove_recipient_mention(turn_context.activity) or ""
    words = text.strip().lower().split()
    return words[0].lstrip("/") if words else ""


class Commands:
    def __init__(self, *, ctx: Context, cards: Cards) -> None:
        self._ctx = ctx
        self._cards = cards

    async def run(self, turn_context: TurnContext, *, actor: str) -> None:
        command = command_of(turn_context)
        if command == "request":
            await self._send(turn_context, await self.request_form(actor))
        elif command == "list":
            await self._send(turn_context, await self.my_requests(actor))
        elif command == "pending":
            for card in await self.pending(actor):
                await self._send(turn_context, card)
        elif command in ("help", "hi", "hello", ""):
            await self._send(turn_context, help_card())
        else:
            await self._send(turn_context, help_card(greeting="Gatepass did not understand that"))

    @staticmethod
    async def _send(turn_context: TurnContext, card: Element) -> None:
        await turn_context.send_activity(card_activity(card))

    async def request_form(self, actor: str) -> Element:
        return request_form_card(await build_form(self._ctx, requester=actor))

    async def my_requests(self, actor: str) -> Element:
        mine = await reads.my_requests(self._ctx, viewer=actor)
        active = await reads.my_active_access(self._ctx, viewer=actor)
        return my_requests_card(mine, active)

    async def pending(self, actor: str) -> list[Element]:
        waiting = await reads.pending_for(self._ctx, viewer=actor)
        shown = waiting[:MAX_PENDING_CARDS]
        cards = [pending_intro_card(len(waiting), len(shown))]
        for view in shown:
            approver = view.approver(actor)
            if approver is not None:
                cards.append(await self._cards.approval(ApprovalRequested(view, approver)))
        return cards
