"""Small Block Kit pieces, and core's phrases (``core.domain.sentences``) encoded as mrkdwn.

Everything here is pure. Strings from people or outside systems (core's ``Said`` parts) are
escaped here, at the last moment, with ``text.escape``; every text object is cut to its limit by
``text.mrkdwn`` / ``text.plain_text``. The wording is core's; only the encoding and the emoji are
Slack's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.slack import text
from core.domain import sentences
from core.domain.sentences import At, Fact, Mark, Part, Said, Sentence
from core.domain.views import RequestView

Block = dict[str, Any]

HERE = "slack"
MARKS = {
    Mark.APPROVED: ":white_check_mark:",
    Mark.DENIED: ":x:",
    Mark.CANCELLED: ":no_entry_sign:",
    Mark.TIMED_OUT: ":hourglass:",
    Mark.FAILED: ":warning:",
}


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


def fields(facts: Sequence[Fact]) -> Block:
    """A section of up to ten ``*label*\\nvalue`` fields."""
    return {
        "type": "section",
        "fields": [
            text.mrkdwn(labelled(fact), limit=text.MAX_SECTION_FIELD)
            for fact in facts[: text.MAX_SECTION_FIELDS]
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


# --------------------------------------------------------------------------- core's phrases


def inert(value: object) -> str:
    """A user-supplied or outside string, as inert single-line mrkdwn."""
    return text.escape(str(value), single_line=True)


def when(moment: datetime | None) -> str:
    """A moment in each reader's own time zone (core's UTC spelling as the fallback)."""
    if moment is None:
        return sentences.NO_TIME
    return text.local_time(moment)


def part(value: Part) -> str:
    if isinstance(value, At):
        return when(value.moment)
    if isinstance(value, Said):
        said = text.escape(value.text, single_line=not value.lines)
        return f"*{said}*" if value.strong and said else said
    return value


def phrase(parts: Iterable[Part]) -> str:
    return "".join(part(p) for p in parts)


def sentence(said: Sentence) -> str:
    """A sentence with its emoji; a reason on a line of its own."""
    line = phrase(said.parts)
    if said.mark in MARKS:
        line = f"{MARKS[said.mark]} {line}"
    if said.reason:
        line += f"\n*{sentences.REASON}:* {text.escape(said.reason)}"
    return line


def labelled(fact: Fact) -> str:
    """``*Label*\\nvalue``."""
    return f"*{fact.label}*\n{part(fact.value)}"


def inline(fact: Fact) -> str:
    """``Label: value`` (for context lines)."""
    return f"{fact.label}: {part(fact.value)}"


def resource(view: RequestView) -> str:
    return phrase(sentences.resource(view))


def what(view: RequestView) -> str:
    """``read on database *analytics* (prod-atlas)``"""
    return phrase(sentences.what(view))


def request_fields(view: RequestView, *, requester: bool = False) -> Block:
    return fields(sentences.request_facts(view, requester=requester))


def justification(view: RequestView) -> Block:
    return section(labelled(sentences.justification(view)))


def approvers_list(heading: str, approvers: Iterable[tuple[str, str]]) -> str:
    """``*heading*`` and a ``• name — reason`` line per approver."""
    lines = [f"• {inert(name)} — {inert(reason)}" for name, reason in approvers]
    return f"*{heading}*\n" + "\n".join(lines)


def approvals_progress(view: RequestView) -> str | None:
    progress = sentences.approvals_progress(view)
    return sentence(progress) if progress else None


def decision_line(view: RequestView) -> str | None:
    """How the request left pending: the same sentence on every copy and platform."""
    decided = sentences.decision(view, here=HERE)
    return sentence(decided) if decided else None


def state_lines(view: RequestView) -> list[str]:
    return [sentence(s) for s in sentences.state(view, here=HERE)]


def fallback(summary: str) -> str:
    """The notification text: core's one-line summary, escaped and cut short."""
    return text.truncate(inert(summary), 300)
