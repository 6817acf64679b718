"""The ephemeral lists of ``/gatepass list`` and ``/gatepass pending``."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack import text
from bot.slack.blocks.common import Block, Rendered, capped, header, section
from bot.slack.blocks.home import pending_item, recent_item
from core.domain.views import RequestView

MAX_ITEMS = 10


def pending_list(found: Sequence[RequestView], *, me: str) -> Rendered:
    if not found:
        return Rendered(
            "Nothing is waiting for your decision.",
            [section("Nothing is waiting for your decision.")],
        )
    blocks: list[Block] = [header("Waiting for your decision")]
    for view in found[:MAX_ITEMS]:
        blocks.extend(pending_item(view, me))
    return Rendered(
        f"{len(found)} request(s) waiting for your decision",
        capped(blocks, text.MAX_BLOCKS_PER_MESSAGE),
    )


def requests_list(found: Sequence[RequestView]) -> Rendered:
    if not found:
        return Rendered("You have no requests yet.", [section("You have no requests yet.")])
    blocks: list[Block] = [header("Your recent requests")]
    for view in found[:MAX_ITEMS]:
        blocks.extend(recent_item(view))
    return Rendered("Your recent requests", capped(blocks, text.MAX_BLOCKS_PER_MESSAGE))
