"""The break-glass cards: the channel broadcast, and an owner's review request with
Acknowledge / Flag (gone once someone has reviewed, replaced by who did and how). Pure; the
wording is core's (``core.domain.break_glass``)."""

from __future__ import annotations

from bot.teams.cards import verbs
from bot.teams.cards.common import justification, parts, request_facts
from bot.teams.cards.elements import Element, Notice, card, execute, heading, line, note
from core.domain import break_glass
from core.domain.messages import BreakGlassAnnounced, ReviewRequested
from core.domain.views import RequestView


def _facts(view: RequestView) -> list[Element]:
    return [
        line(*parts(break_glass.announcement(view))),
        *request_facts(view),
        justification(view),
        line(*parts(break_glass.period(view))),
    ]


def announced_card(message: BreakGlassAnnounced) -> Element:
    body = [
        heading("🚨 Break-glass access used"),
        *_facts(message.request),
        line(*parts(break_glass.review_line(message.review))),
    ]
    return card(body)


def review_card(message: ReviewRequested, *, notice: Notice | None = None) -> Element:
    view, state = message.request, message.review
    title = (
        "🔔 Reminder: review break-glass use"
        if message.reminder and not state.done
        else ("🚨 Review break-glass use")
    )
    body = [heading(title), *_facts(view)]
    if notice is not None:
        body.append(notice.element())
    actions: list[Element] = []
    if state.done:
        body.append(line(*parts(break_glass.review_line(state))))
    else:
        body.append(note(break_glass.review_ask(message.reminder), subtle=False))
        data = {verbs.REQUEST: view.id}
        actions = [
            execute("Acknowledge", verb=verbs.BREAK_GLASS_ACKNOWLEDGE, data=data, style="positive"),
            execute("Flag", verb=verbs.BREAK_GLASS_FLAG, data=data, style="destructive"),
        ]
    return card(body, actions=actions)
