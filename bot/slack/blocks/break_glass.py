"""The break-glass messages in Block Kit: the channel broadcast, and an owner's review request
with Acknowledge / Flag (gone once someone has reviewed, replaced by who did and how).

Registered with ``messages.render``, so the notifier and the click handlers render them like any
other message. The wording is core's (``core.domain.break_glass``).
"""

from __future__ import annotations

from bot.slack import ids
from bot.slack.blocks.common import (
    Block,
    Rendered,
    actions,
    button,
    context,
    fallback,
    justification,
    phrase,
    request_fields,
    section,
)
from bot.slack.blocks.messages import render
from core.domain import break_glass, sentences
from core.domain.messages import BreakGlassAnnounced, ReviewRequested
from core.domain.views import RequestView

SIREN = ":rotating_light:"


def _facts(view: RequestView) -> list[Block]:
    return [
        section(f"{SIREN} {phrase(break_glass.announcement(view))}"),
        request_fields(view, requester=True),
        justification(view),
        context(phrase(break_glass.period(view))),
    ]


@render.register
def announced(message: BreakGlassAnnounced) -> Rendered:
    blocks = [*_facts(message.request), context(phrase(break_glass.review_line(message.review)))]
    return Rendered(fallback(sentences.summary(message)), blocks)


@render.register
def review_requested(message: ReviewRequested) -> Rendered:
    view, state = message.request, message.review
    blocks = _facts(view)
    if state.done:
        blocks.append(section(phrase(break_glass.review_line(state))))
    else:
        blocks += [
            section(break_glass.review_ask(message.reminder)),
            actions(
                button(
                    "Acknowledge",
                    action_id=ids.BREAK_GLASS_ACKNOWLEDGE,
                    value=view.id,
                    style="primary",
                ),
                button("Flag", action_id=ids.BREAK_GLASS_FLAG, value=view.id, style="danger"),
                block_id=f"break_glass:{view.id}",
            ),
        ]
    return Rendered(fallback(sentences.summary(message)), blocks)
