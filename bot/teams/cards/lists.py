"""The answers to ``list``, ``pending`` and ``help``, and the welcome."""

from __future__ import annotations

from collections.abc import Sequence

from bot.teams.cards.common import state_lines, what
from bot.teams.cards.elements import Element, Run, card, heading, line, note, utc
from core.domain.views import RequestView

MAX_LISTED = 15

HELP_LINES = (
    "**request**: ask for time-bound access to a MongoDB Atlas resource",
    "**list**: your recent requests and the access you hold now",
    "**pending**: the requests waiting for your decision",
    "**help**: this message",
)


def help_card(*, greeting: str | None = None) -> Element:
    body: list[Element] = [heading(greeting or "What Gatepass can do")]
    body += [note(text, subtle=False) for text in HELP_LINES]
    body.append(
        note("Approvers get a card here with Approve and Deny whenever a request waits for them.")
    )
    return card(body)


def _status(view: RequestView) -> str:
    return view.status.value.replace("_", " ")


def _request_row(view: RequestView) -> list[Element]:
    row = [
        line(
            Run(view.id, monospace=True, bold=True),
            "  ",
            *what(view),
            f" — {_status(view)}",
            spacing="Medium",
        ),
        line(Run(f"asked {utc(view.created_at)}", subtle=True), spacing="None"),
    ]
    return row + state_lines(view)


def my_requests_card(requests: Sequence[RequestView], active: Sequence[RequestView]) -> Element:
    body: list[Element] = [heading("Your access now")]
    if active:
        body += [
            line(*what(view), f" until {utc(view.ends_at)}", spacing="Small") for view in active
        ]
    else:
        body.append(note("You hold no access through Gatepass right now."))
    body.append(heading("Your recent requests"))
    if not requests:
        body.append(note("You have not requested anything yet. Type **request** to start."))
    for view in requests[:MAX_LISTED]:
        body += _request_row(view)
    if len(requests) > MAX_LISTED:
        body.append(note(f"… and {len(requests) - MAX_LISTED} older requests."))
    return card(body)


def pending_intro_card(count: int, shown: int) -> Element:
    if count == 0:
        return card([heading("Nothing waits for your decision")])
    more = f" The first {shown} follow." if shown < count else ""
    noun = "request waits" if count == 1 else "requests wait"
    return card([heading(f"{count} {noun} for your decision"), note(f"Decide below.{more}")])
