"""The App Home tab: request access, my active access, waiting for my decision, my recent
requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.slack import ids, text
from bot.slack.blocks.common import (
    Block,
    actions,
    button,
    capped,
    context,
    divider,
    header,
    inert,
    inline,
    phrase,
    section,
    state_lines,
    what,
    when,
)
from core.domain import sentences
from core.domain.durations import describe_duration
from core.domain.lifecycle import Status
from core.domain.views import RequestView

MAX_ITEMS = 10  # per list, so the tab stays within Slack's 100 blocks


def _request_button() -> Block:
    return actions(
        button("Request access", action_id=ids.OPEN_REQUEST_MODAL, value="home", style="primary"),
        block_id="home:request",
    )


def _active(view: RequestView) -> list[Block]:
    lines = [f"{what(view)}", f"Request {inert(view.id)} · until {when(view.ends_at)}"]
    blocks: list[Block] = [section("\n".join(lines))]
    if view.status is Status.ACTIVE:
        blocks.append(
            actions(
                button("Extend", action_id=ids.EXTEND, value=view.id),
                button("I'm done", action_id=ids.DONE, value=view.id, style="danger"),
                block_id=f"home:active:{view.id}",
            )
        )
    else:
        blocks.append(context("Being granted…"))
    return blocks


def pending_item(view: RequestView, me: str) -> list[Block]:
    body = f"{phrase(sentences.asks_for(view))} for {describe_duration(view.duration)}"
    where = f"Request {inert(view.id)} · open until {when(view.pending_until)}"
    if view.approver(me) is not None:
        where += f" · {inline(sentences.why_you(view, me))}"
    return [
        section(body),
        context(where),
        actions(
            button("Approve", action_id=ids.APPROVE, value=view.id, style="primary"),
            button("Deny", action_id=ids.DENY, value=view.id, style="danger"),
            block_id=f"home:decide:{view.id}",
        ),
    ]


def recent_item(view: RequestView) -> list[Block]:
    state = "; ".join(state_lines(view)) or "Waiting for approval"
    return [
        section(
            f"{what(view)}\nRequest {inert(view.id)} · {when(view.created_at)}",
            accessory=button("Request again", action_id=ids.REQUEST_AGAIN, value=view.id),
        ),
        context(state),
    ]


def _list(title: str, items: Sequence[list[Block]], empty: str) -> list[Block]:
    blocks: list[Block] = [header(title)]
    if not items:
        return [*blocks, context(empty)]
    for item in items[:MAX_ITEMS]:
        blocks.extend(item)
    if len(items) > MAX_ITEMS:
        blocks.append(context("… and more"))
    return blocks


def home_view(
    *,
    me: str,
    active: Sequence[RequestView],
    pending: Sequence[RequestView],
    recent: Sequence[RequestView],
    notice: str | None = None,
) -> dict[str, Any]:
    """``notice`` (mrkdwn, already escaped) is shown on top: the answer to a click made here."""
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice, block_id="home:notice"))
    blocks += [
        section("Just-in-time, time-bound access to MongoDB Atlas, approved by its owners."),
        _request_button(),
        divider(),
        *_list("Your active access", [_active(v) for v in active], "You have no active access."),
        divider(),
        *_list(
            "Waiting for your decision",
            [pending_item(v, me) for v in pending],
            "Nothing is waiting for you.",
        ),
        divider(),
        *_list("Your recent requests", [recent_item(v) for v in recent], "No requests yet."),
    ]
    return {"type": "home", "blocks": capped(blocks, text.MAX_BLOCKS_PER_VIEW)}


def stranger_home(message: str) -> dict[str, Any]:
    """For someone Gatepass does not know: why, and nothing else."""
    return {"type": "home", "blocks": [section(f":no_entry: {text.escape(message)}")]}
