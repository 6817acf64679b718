"""What every card action gets: who clicked, what the card carried, the request read through
core's one door, and how to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.teams.cards import verbs
from bot.teams.cards.elements import Element
from bot.teams.endpoint import card_response, message_response
from bot.teams.references import PLATFORM
from bot.teams.render import Cards
from core.context import Context
from core.domain.errors import GatepassError
from core.domain.views import RequestView
from core.use_cases import reads

Answer = AdaptiveCardInvokeResponse


class MissingRequest(GatepassError):
    def __init__(self) -> None:
        super().__init__("This card does not say which request it is about.")


@dataclass(frozen=True)
class Click:
    """One ``Action.Execute``: the actor (an email Gatepass knows) and the data with inputs."""

    ctx: Context
    cards: Cards
    actor: str
    data: Mapping[str, Any]
    platform: str = PLATFORM

    @property
    def request_id(self) -> str:
        value = self.data.get(verbs.REQUEST)
        if not isinstance(value, str) or not value:
            raise MissingRequest()
        return value

    def text(self, key: str) -> str:
        value = self.data.get(key)
        return value if isinstance(value, str) else ""

    async def view(self) -> RequestView:
        """The card's request, if the actor is one of its parties (else ``NotAParty``: the
        refusal is the same whether the request exists or not)."""
        return await reads.request_for(self.ctx, self.request_id, viewer=self.actor)

    async def own(self) -> RequestView:
        """The card's request, if the actor is its requester (the requester's card carries
        access details: nobody else sees it, not even an approver)."""
        return await reads.own_request(self.ctx, self.request_id, viewer=self.actor)


@dataclass(frozen=True)
class Later:
    """An answer given at once, having only read, and the change made after it: ``then`` writes
    and returns the card that replaces ``now``, or None when ``now`` stands (a refusal there is
    told on the card)."""

    now: Answer
    then: Callable[[], Awaitable[Answer | None]]


Handler = Callable[[Click], Awaitable[Answer | Later]]


def show(card: Element) -> Answer:
    return card_response(card)


def say(text: str) -> Answer:
    return message_response(text)


__all__ = ["Answer", "Click", "Handler", "Later", "MissingRequest", "say", "show"]
