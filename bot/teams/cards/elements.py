"""The Adaptive Card pieces every Gatepass card is built from.

``TextBlock`` (markdown-parsed) is for our own words only; everything variable goes through
:func:`line` / :func:`fact` as ``TextRun`` elements, which hosts never parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.domain.sentences import NO_TIME, utc_text

Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_RUN = 2000
ELLIPSIS = "…"

# C0/C1 controls except tab and newline; bidi embeddings, overrides and isolates: they can make
# a resource name read differently from what it is.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object, *, limit: int = MAX_RUN) -> str:
    """A variable string made safe to show: controls removed, cut to ``limit`` characters."""
    text = _INVISIBLE.sub("", str(value).replace("\r\n", "\n"))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


# --------------------------------------------------------------------------- text


@dataclass(frozen=True)
class Run:
    """A piece of a :func:`line`: shown exactly as written."""

    text: str
    bold: bool = False
    monospace: bool = False
    color: str | None = None
    subtle: bool = False

    def element(self) -> Element:
        run: Element = {"type": "TextRun", "text": clean(self.text)}
        if self.bold:
            run["weight"] = "Bolder"
        if self.monospace:
            run["fontType"] = "Monospace"
        if self.color:
            run["color"] = self.color
        if self.subtle:
            run["isSubtle"] = True
        return run


Part = str | Run


def line(*parts: Part, spacing: str | None = None, color: str | None = None) -> Element:
    """A ``RichTextBlock`` of ``TextRun``s: never parsed as markdown."""
    runs = [
        (Run(part, color=color) if isinstance(part, str) else part).element()
        for part in parts
        if (part.text if isinstance(part, Run) else part)
    ]
    block: Element = {"type": "RichTextBlock", "inlines": runs}
    if spacing:
        block["spacing"] = spacing
    return block


def fact(label: str, *value: Part) -> Element:
    """``Label: value`` with the label in bold; the value is never parsed."""
    return line(Run(f"{label}: ", bold=True), *value, spacing="Small")


def heading(text: str) -> Element:
    """A title in our own words (parsed as markdown: never pass user text)."""
    return {"type": "TextBlock", "text": text, "size": "Medium", "weight": "Bolder", "wrap": True}


def note(text: str, *, subtle: bool = True, color: str | None = None) -> Element:
    """A sentence in our own words (parsed as markdown: never pass user text)."""
    block: Element = {"type": "TextBlock", "text": text, "wrap": True, "spacing": "Small"}
    if subtle:
        block["isSubtle"] = True
    if color:
        block["color"] = color
    return block


def problem(message: str) -> Element:
    """An error shown on the card (next to the input it concerns); never parsed."""
    return line(Run(message, color="Attention", bold=True), spacing="Small")


@dataclass(frozen=True)
class Notice:
    """A sentence on top of a card about the last click: what went wrong (``ok`` False) or
    what was done. Shown as a TextRun: it may quote what a person typed."""

    text: str
    ok: bool = False

    def element(self) -> Element:
        color = "Good" if self.ok else "Attention"
        return line(Run(self.text, color=color, bold=True), spacing="Small")


def container(items: Sequence[Element], *, style: str | None = None) -> Element:
    box: Element = {"type": "Container", "items": list(items)}
    if style:
        box["style"] = style
    return box


# --------------------------------------------------------------------------- time


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a date for a card must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def when(moment: datetime | None) -> str:
    """The time in each reader's own time zone (Adaptive Card date functions), for TextBlocks."""
    if moment is None:
        return NO_TIME
    stamp = _rfc3339(moment)
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def utc(moment: datetime | None) -> str:
    """The time as core spells it in plain UTC text, for TextRuns."""
    return utc_text(moment)


def time_fact(label: str, moment: datetime | None) -> Element:
    """``Label: <local time>`` (our words and a date: the one parsed fact)."""
    return {
        "type": "TextBlock",
        "text": f"**{label}:** {when(moment)}",
        "wrap": True,
        "spacing": "Small",
    }


# --------------------------------------------------------------------------- inputs and actions


def execute(
    title: str, *, verb: str, data: Mapping[str, Any] | None = None, style: str | None = None
) -> Element:
    action: Element = {"type": "Action.Execute", "title": title, "verb": verb}
    if data:
        action["data"] = dict(data)
    if style:
        action["style"] = style
    return action


def choice_set(
    input_id: str,
    *,
    label: str,
    choices: Iterable[tuple[str, str]],
    value: str | None = None,
    placeholder: str = "",
    filtered: bool = False,
    dataset: str | None = None,
) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "filtered" if filtered else "compact",
        "choices": [{"title": clean(title, limit=200), "value": v} for title, v in choices],
    }
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    if dataset:
        element["choices.data"] = {"type": "Data.Query", "dataset": dataset}
    return element


def text_input(
    input_id: str,
    *,
    label: str,
    value: str = "",
    placeholder: str = "",
    multiline: bool = False,
    max_length: int | None = None,
    required: str | None = None,
) -> Element:
    """``required``: the client refuses to send the card without it, saying this."""
    element: Element = {"type": "Input.Text", "id": input_id, "label": label}
    if required:
        element["isRequired"] = True
        element["errorMessage"] = required
    if value:
        element["value"] = clean(value)
    if placeholder:
        element["placeholder"] = placeholder
    if multiline:
        element["isMultiline"] = True
    if max_length:
        element["maxLength"] = max_length
    return element


# --------------------------------------------------------------------------- cards


def card(
    body: Sequence[Element],
    *,
    actions: Sequence[Element] = (),
    refresh: Element | None = None,
) -> Element:
    built: Element = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": list(body),
        "msteams": {"width": "Full"},
    }
    if actions:
        built["actions"] = list(actions)
    if refresh is not None:
        built["refresh"] = refresh
    return built


def refresh(*, verb: str, data: Mapping[str, Any], user_ids: Sequence[str]) -> Element | None:
    """Refresh the card for these users (user-specific views); None when nobody is listed."""
    ids = list(dict.fromkeys(u for u in user_ids if u))
    if not ids:
        return None
    action = {"type": "Action.Execute", "title": "Refresh", "verb": verb, "data": dict(data)}
    return {"action": action, "userIds": ids[:60]}
