"""Small Block Kit pieces and the phrases every message shares (who, what, which state).

Everything here is pure. Strings from people or outside systems are escaped here, at the last
moment, with ``text.escape``; every text object is cut to its limit by ``text.mrkdwn`` /
``text.plain_text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.slack import text
from core.domain.durations import describe_duration
from core.domain.lifecycle import Status
from core.domain.views import RequestView

Block = dict[str, Any]

PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams", "cli": "the Gatepass CLI"}


@dataclass(frozen=True)
class Rendered:
    """A message: ``text`` is the notification fallback, ``blocks`` what is shown."""

    text: str
    blocks: list[Block]


# --------------------------------------------------------------------------- blocks


def section(mrkdwn: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": text.mrkdwn(mrkdwn, limit=text.MAX_SECTION_TEXT)}
    if block_id:
        block["block_id"] = block_id
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields(pairs: Sequence[tuple[str, str]]) -> Block:
    """A section of up to ten ``*label*\\nvalue`` fields (values already escaped)."""
    return {
        "type": "section",
        "fields": [
            text.mrkdwn(f"*{label}*\n{value}", limit=text.MAX_SECTION_FIELD)
            for label, value in pairs[: text.MAX_SECTION_FIELDS]
        ],
    }


def context(*lines: str) -> Block:
    return {
        "type": "context",
        "elements": [text.mrkdwn(line) for line in lines[: text.MAX_CONTEXT_ELEMENTS]],
    }


def header(title: str) -> Block:
    return {"type": "header", "text": text.plain_text(title, limit=text.MAX_HEADER_TEXT)}


def divider() -> Block:
    return {"type": "divider"}


def button(
    label: str,
    *,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "text": text.plain_text(label, limit=text.MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": value[: text.MAX_BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    if confirm is not None:
        element["confirm"] = confirm
    return element


def confirm(title: str, question: str, *, yes: str, no: str = "Back") -> Block:
    return {
        "title": text.plain_text(title, limit=text.MAX_CONFIRM_TITLE),
        "text": text.mrkdwn(question, limit=text.MAX_CONFIRM_TEXT),
        "confirm": text.plain_text(yes, limit=text.MAX_CONFIRM_BUTTON),
        "deny": text.plain_text(no, limit=text.MAX_CONFIRM_BUTTON),
    }


def actions(*elements: Block, block_id: str) -> Block:
    return {
        "type": "actions",
        "block_id": block_id[: text.MAX_BLOCK_ID],
        "elements": list(elements[: text.MAX_ACTIONS_ELEMENTS]),
    }


def option(label: str, value: str) -> Block:
    return {
        "text": text.plain_text(label, limit=text.MAX_OPTION_TEXT),
        "value": value[: text.MAX_OPTION_VALUE],
    }


def capped(blocks: list[Block], limit: int) -> list[Block]:
    """At most ``limit`` blocks; the last one says how much was left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(f"… and {len(blocks) - limit + 1} more blocks")]


# --------------------------------------------------------------------------- phrases


def inert(value: object) -> str:
    """A user-supplied or outside string, as inert single-line mrkdwn."""
    return text.escape(str(value), single_line=True)


def when(moment: datetime | None) -> str:
    return text.local_time(moment) if moment is not None else "—"


def duration(view: RequestView) -> str:
    return describe_duration(view.duration)


def resource(view: RequestView) -> str:
    return f"{inert(view.resource_type)} *{inert(view.resource_name)}*"


def what(view: RequestView) -> str:
    """``read on database *analytics* (prod-atlas)``"""
    return f"{inert(view.permission)} on {resource(view)} ({inert(view.integration)})"


def where(platform: str | None) -> str:
    """`` in Teams`` when something happened on another platform than Slack."""
    if not platform or platform == "slack":
        return ""
    return f" in {PLATFORM_NAMES.get(platform, inert(platform))}"


def request_fields(view: RequestView, *, requester: bool = False) -> Block:
    pairs = [
        ("Integration", inert(view.integration)),
        ("Resource", f"{inert(view.resource_type)} {inert(view.resource_name)}"),
        ("Permission", inert(view.permission)),
        ("Duration", duration(view)),
        ("Request", inert(view.id)),
    ]
    if requester:
        pairs.insert(0, ("Requester", inert(view.requester_name)))
    if view.extends_request_id:
        pairs.append(("Extends", inert(view.extends_request_id)))
    return fields(pairs)


def justification(view: RequestView) -> Block:
    said = text.escape(view.justification) if view.justification else "_No justification given._"
    return section(f"*Justification*\n{said}")


def approvals_progress(view: RequestView) -> str | None:
    if view.approvals_required <= 1:
        return None
    names = ", ".join(inert(d.approver_name) for d in view.approvals) or "nobody yet"
    return f"{len(view.approvals)} of {view.approvals_required} approvals ({names})"


def decision_line(view: RequestView) -> str | None:
    """How the request left pending: the same sentence on every copy and platform."""
    by = inert(view.decided_by_name or view.decided_by or "")
    at = when(view.decided_at)
    status = view.status
    if status is Status.PENDING:
        return None
    if status is Status.DENIED:
        line = f":x: Denied by {by}{where(view.decided_on)} at {at}"
        if view.decision_reason:
            line += f"\n*Reason:* {text.escape(view.decision_reason)}"
        return line
    if status is Status.CANCELLED:
        return f":no_entry_sign: Cancelled by the requester{where(view.decided_on)} at {at}"
    if status is Status.TIMED_OUT:
        return f":hourglass: Timed out at {at}: nobody decided in time"
    if not view.decided_by:
        return f":white_check_mark: Approved automatically at {at}"
    line = f":white_check_mark: Approved by {by}{where(view.decided_on)} at {at}"
    if view.decision_reason:
        line += f"\n*Reason:* {text.escape(view.decision_reason)}"
    return line


def access_line(view: RequestView) -> str | None:
    """What became of the access after an approval."""
    status = view.status
    if status in (Status.APPROVED, Status.GRANTING):
        return "Granting the access…"
    if status is Status.ACTIVE:
        return f"Access active until {when(view.ends_at)}"
    if status is Status.EXPIRED:
        return f"Access expired at {when(view.ended_at)}"
    if status is Status.REVOKED:
        reason = f" ({text.escape(view.end_reason)})" if view.end_reason else ""
        return f"Access removed at {when(view.ended_at)}{reason}"
    if status is Status.FAILED:
        return f":warning: Granting failed: {text.escape(view.failure or 'unknown error')}"
    return None


def state_lines(view: RequestView) -> list[str]:
    return [line for line in (decision_line(view), access_line(view)) if line]


def fallback(*parts: str) -> str:
    """The notification text: already-escaped parts, cut short."""
    return text.truncate(" ".join(p for p in parts if p), 300)
