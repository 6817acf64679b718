"""Core's phrases (``core.domain.sentences``) as Adaptive Card elements: what is asked, the
request's facts, how it was decided and what became of the access. The wording is core's; only
the encoding and the emoji are Teams'."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.teams.cards.elements import Element, Part, Run, line, time_fact
from core.domain import sentences
from core.domain.sentences import At, Fact, Mark, Said, Sentence
from core.domain.views import RequestView

HERE = "teams"
_LINE_BREAKS = re.compile(r"\s*(?:\r\n|\r|\n)\s*")
MARKS = {
    Mark.APPROVED: "✅",
    Mark.DENIED: "❌",
    Mark.CANCELLED: "🚫",
    Mark.TIMED_OUT: "⌛",
    Mark.FAILED: "⚠️",
}


def part(value: sentences.Part) -> Part:
    if isinstance(value, At):
        return sentences.utc_text(value.moment)
    if isinstance(value, Said):
        shown = value.text if value.lines else _LINE_BREAKS.sub(" ", value.text)
        return Run(shown, bold=value.strong, monospace=value.literal)
    return value


def parts(phrase: Iterable[sentences.Part]) -> list[Part]:
    return [part(p) for p in phrase]


def what(view: sentences.Asked) -> list[Part]:
    """``read`` on ``database analytics`` (prod-atlas)."""
    return parts(sentences.what(view))


def fact(said: Fact) -> Element:
    """``Label: value`` with the label in bold; a moment in each reader's own time zone."""
    if isinstance(said.value, At):
        return time_fact(said.label, said.value.moment)
    return line(Run(f"{said.label}: ", bold=True), part(said.value), spacing="Small")


def request_facts(view: RequestView, *, requester: bool = True) -> list[Element]:
    return [fact(f) for f in sentences.request_facts(view, requester=requester)]


def justification(view: RequestView) -> Element:
    return fact(sentences.justification(view))


def pending_until(view: RequestView) -> Element:
    return fact(sentences.pending_until(view))


def approver_rows(heading: str, approvers: Iterable[tuple[str, str]]) -> list[Element]:
    """A bold heading and a ``• name — reason`` line per approver."""
    rows = [
        line("• ", Run(name, bold=True), " — ", Run(reason), spacing="None")
        for name, reason in approvers
    ]
    return [line(Run(heading, bold=True), spacing="Medium"), *rows]


def sentence(said: Sentence) -> Element:
    """A sentence as one line, with its emoji; a reason after it, on a line of its own."""
    shown = parts(said.parts)
    if said.mark in MARKS:
        shown.insert(0, f"{MARKS[said.mark]} ")
    if said.reason:
        shown += [Run(f"\n{sentences.REASON}: ", bold=True), said.reason]
    return line(*shown, spacing="Small")


def approvals_progress(view: RequestView) -> Element | None:
    progress = sentences.approvals_progress(view)
    return sentence(progress) if progress else None


def state_lines(view: RequestView) -> list[Element]:
    """The decision and the access, one line each (nothing while pending)."""
    return [sentence(s) for s in sentences.state(view, here=HERE)]
