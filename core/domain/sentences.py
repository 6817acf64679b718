"""How Gatepass words a request, once for every platform: what is asked, the request's facts, how
it was decided, what became of the access, why someone is its approver.

Each phrase is a tuple of neutral parts. A ``str`` is Gatepass's own words; :class:`Said` is text
a person typed or an outside system named (a display name, a reason, a resource name), which
every edge shows inert, exactly as written; :class:`At` is a moment, which each edge formats its
own way (Slack in the reader's time zone, Teams as UTC text) around the same UTC fallback. The
edges add only their encoding and the emoji of a sentence's :class:`Mark`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from core.domain import messages
from core.domain.durations import describe_duration
from core.domain.lifecycle import Status
from core.domain.views import RequestView

PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams", "cli": "the Gatepass CLI"}
MAX_NAME = 64
"""Display names are cut to this many characters (with an ellipsis) wherever they are shown, so
a name from the directory can never push the decision, its time or its reason out of a message."""
ELLIPSIS = "…"
NO_TIME = "—"
REASON = "Reason"
WAITING_FOR_OTHERS = "You have decided; waiting for the other approvals."
WAITING_FOR_APPROVERS = "Waiting for the approvers to decide."
GRANTING_NOTE = "Gatepass is granting the access; the details follow here."
INVITED_HEADING = "Accept Atlas's invitation to use your access"
EXTENDING_NOTE = "Extending asks for a new approval."


def short_name(name: str) -> str:
    """A display name cut to :data:`MAX_NAME` characters, ending in an ellipsis when cut."""
    name = " ".join(name.split())
    if len(name) <= MAX_NAME:
        return name
    return name[: MAX_NAME - len(ELLIPSIS)].rstrip() + ELLIPSIS


def utc_text(moment: datetime | None) -> str:
    """``2026-11-23 10:32 UTC``: the one plain spelling of a moment (and every edge's fallback)."""
    if moment is None:
        return NO_TIME
    if moment.tzinfo is None:
        raise ValueError("a moment shown to people must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Said:
    """Text from a person or an outside system: shown inert, exactly as written."""

    text: str
    strong: bool = False  # emphasised where the platform can (the resource's name)
    literal: bool = False  # an identifier to copy: monospace where the platform can
    lines: bool = False  # keeps its line breaks (a reason, an error); else shown on one line


@dataclass(frozen=True)
class At:
    """A moment; each edge shows it its own way (``None``: not known, shown as a dash)."""

    moment: datetime | None


Part = str | Said | At
Phrase = tuple[Part, ...]


class Mark(StrEnum):
    """What kind of news a sentence is; each edge picks its emoji for it."""

    PLAIN = "plain"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    FAILED = "failed"


@dataclass(frozen=True)
class Sentence:
    """A line; ``reason`` (a person's words) follows on a line of its own after ``Reason:``."""

    parts: Phrase
    mark: Mark = Mark.PLAIN
    reason: str | None = None


@dataclass(frozen=True)
class Fact:
    """``label: value``: a request's field as both platforms list it."""

    label: str
    value: Part


def plain(parts: Phrase) -> str:
    """A phrase as plain text: notification summaries, logs."""
    return "".join(
        p if isinstance(p, str) else p.text if isinstance(p, Said) else utc_text(p.moment)
        for p in parts
    )


# --------------------------------------------------------------------------- what is asked


class Asked(Protocol):
    """What a request asks for: a request's view, or a draft about to be submitted."""

    @property
    def integration(self) -> str: ...
    @property
    def resource_type(self) -> str: ...
    @property
    def resource_name(self) -> str: ...
    @property
    def permission(self) -> str: ...


def resource(view: Asked) -> Phrase:
    """``database analytics`` with the name emphasised."""
    return (Said(view.resource_type), " ", Said(view.resource_name, strong=True))


def what(view: Asked) -> Phrase:
    """``read on database analytics (prod-atlas)``."""
    return (Said(view.permission), " on ", *resource(view), " (", Said(view.integration), ")")


def asks_for(view: RequestView) -> Phrase:
    """``Alice Doe asks for read on database analytics (prod-atlas)``."""
    return (Said(view.requester_name, strong=True), " asks for ", *what(view))


def where(platform: str | None, *, here: str) -> str:
    """`` in Teams`` when something happened on another platform than the reader's."""
    if not platform or platform == here:
        return ""
    return f" in {PLATFORM_NAMES.get(platform, platform)}"


def request_facts(view: RequestView, *, requester: bool = True) -> tuple[Fact, ...]:
    facts = [
        Fact("Integration", Said(view.integration)),
        Fact("Resource", Said(f"{view.resource_type} {view.resource_name}")),
        Fact("Permission", Said(view.permission)),
        Fact("Duration", describe_duration(view.duration)),
        Fact("Request", Said(view.id, literal=True)),
    ]
    if requester:
        facts.insert(0, Fact("Requester", Said(view.requester_name)))
    if view.extends_request_id:
        facts.append(Fact("Extends", Said(view.extends_request_id, literal=True)))
    return tuple(facts)


def justification(view: RequestView) -> Fact:
    if not view.justification:
        return Fact("Justification", "No justification given.")
    return Fact("Justification", Said(view.justification, lines=True))


def pending_until(view: RequestView) -> Fact:
    return Fact("Open until", At(view.pending_until))


def access_facts(view: RequestView) -> tuple[Fact, ...]:
    """The granted access in short: who, what, until when (never the password)."""
    return (
        Fact("Username", Said(view.username or NO_TIME, literal=True)),
        Fact("Permission", Said(view.permission)),
        Fact("Resource", Said(f"{view.resource_type} {view.resource_name}")),
        Fact("Expires", At(view.ends_at)),
    )


def connection_details(view: RequestView) -> tuple[Fact, ...]:
    """How to connect: the connection string and the integration's access details."""
    connection = view.connection or {}
    facts = []
    if connection.get("connection_string"):
        value = Said(str(connection["connection_string"]), literal=True)
        facts.append(Fact("Connection string", value))
    if connection.get("custom_access_details"):
        value = Said(str(connection["custom_access_details"]), lines=True)
        facts.append(Fact("Access details", value))
    return tuple(facts)


def connection_notes(view: RequestView) -> tuple[str, ...]:
    """The integration's notes on connecting (outside text: show it inert)."""
    notes = (view.connection or {}).get("notes")
    if not isinstance(notes, list | tuple):
        return ()
    return tuple(str(n) for n in notes if n)


# --------------------------------------------------------------------------- who decides


def why_you(view: RequestView, email: str, *, copy_reason: str = "") -> Fact:
    """Why ``email`` sees this request as an approver (or why they cannot decide on it);
    ``copy_reason``: why a reader who is no approver has a copy (an integration owner)."""
    if email == view.requester:
        return Fact("Why you", "This is your own request: you cannot decide on it.")
    chosen = view.approver(email)
    if chosen is None and copy_reason:
        return Fact("Why you", Said(copy_reason))
    if chosen is None:
        return Fact("Why you", "You are not an approver of this request.")
    if not chosen.reason:
        return Fact("Why you", "you were named as an approver")
    return Fact("Why you", Said(chosen.reason))


def approvers_heading(required: int, *, preview: bool = False) -> str:
    """``Approvers`` on a request, ``Who will approve`` on the form; how many must approve."""
    label = "Who will approve" if preview else "Approvers"
    return label if required <= 1 else f"{label} ({required} must approve)"


def approvals_progress(view: RequestView) -> Sentence | None:
    """``1 of 2 approvals (Bob Ray)`` while more than one approval is needed."""
    if view.approvals_required <= 1:
        return None
    names = ", ".join(d.approver_name for d in view.approvals)
    count = f"{len(view.approvals)} of {view.approvals_required} approvals ("
    return Sentence((count, Said(names) if names else "nobody yet", ")"))


# --------------------------------------------------------------------------- what happened


def decision(view: RequestView, *, here: str) -> Sentence | None:
    """How the request left pending, the same on every copy; ``here``: the reader's platform."""
    status = view.status
    at = (" at ", At(view.decided_at))
    by = Said(view.decided_by_name or view.decided_by or "")
    on = where(view.decided_on, here=here)
    if status is Status.PENDING:
        return None
    if status is Status.DENIED:
        return Sentence(("Denied by ", by, on, *at), Mark.DENIED, view.decision_reason)
    if status is Status.CANCELLED:
        return Sentence(("Cancelled by the requester", on, *at), Mark.CANCELLED)
    if status is Status.TIMED_OUT:
        return Sentence(("Timed out", *at, ": nobody decided in time"), Mark.TIMED_OUT)
    if not view.decided_by:
        return Sentence(("Approved automatically", *at), Mark.APPROVED)
    return Sentence(("Approved by ", by, on, *at), Mark.APPROVED, view.decision_reason)


def access(view: RequestView) -> Sentence | None:
    """What became of the access after an approval."""
    status = view.status
    if view.invited:
        invited = "Invited to Atlas: accept the emailed invitation before "
        return Sentence((invited, At(view.ends_at), ", when this access ends"))
    if status in (Status.APPROVED, Status.GRANTING):
        return Sentence(("Granting the access…",))
    if status is Status.ACTIVE:
        return Sentence(("Access active until ", At(view.ends_at)))
    if status is Status.EXPIRED:
        return Sentence(("Access expired at ", At(view.ended_at)))
    if status is Status.REVOKED:
        reason: Phrase = (" (", Said(view.end_reason, lines=True), ")") if view.end_reason else ()
        return Sentence(("Access removed at ", At(view.ended_at), *reason))
    if status is Status.FAILED:
        failure = Said(view.failure or "unknown error", lines=True)
        return Sentence(("Granting failed: ", failure), Mark.FAILED)
    if status is Status.EXTENDED:
        extended = f"Added to request {view.extends_request_id}: access until "
        return Sentence((extended, At(view.ends_at)))
    return None


def state(view: RequestView, *, here: str) -> tuple[Sentence, ...]:
    """The decision and the access, a sentence each (nothing while pending)."""
    return tuple(s for s in (decision(view, here=here), access(view)) if s is not None)


def ends_soon(view: RequestView) -> Phrase:
    """``Your read on database analytics (prod-atlas) access ends at <time>.``"""
    return ("Your ", *what(view), " access ends at ", At(view.ends_at), ".")


def ended(view: RequestView) -> Phrase:
    """The access is gone: expired, or removed (with why)."""
    if view.status is Status.EXPIRED:
        return ("Your ", *what(view), " access expired at ", At(view.ended_at), ".")
    why: Phrase = (": ", Said(view.end_reason, lines=True)) if view.end_reason else (".",)
    return ("Your ", *what(view), " access was removed at ", At(view.ended_at), *why)


_OUTCOMES = {
    Status.DENIED: "denied",
    Status.CANCELLED: "cancelled",
    Status.TIMED_OUT: "timed out",
    Status.FAILED: "could not be granted",
}


def outcome(view: RequestView) -> str:
    """``denied``, ``cancelled``, ``timed out``, ``could not be granted`` or ``approved``."""
    return _OUTCOMES.get(view.status, "approved")


def summary(message: messages.Message) -> str:
    """A message in one plain line: the notification text both platforms show in a feed."""
    view = message.request
    asked = plain(what(view))
    if isinstance(message, messages.ApprovalRequested):
        return f"Access request {view.id} from {view.requester_name}: {asked}"
    if isinstance(message, messages.RequestReceived):
        return f"Request {view.id} sent: {asked}"
    if isinstance(message, messages.RequestOutcome):
        return f"Request {view.id} {outcome(view)}."
    if isinstance(message, messages.AccessReady):
        return f"{'Invited to Atlas' if view.invited else 'Access ready'}: {asked}"
    if isinstance(message, messages.ExpiryWarning):
        return f"Your access ends soon: {asked}"
    if isinstance(message, messages.AccessEnded):
        return f"Your access ended: {asked}"
    if isinstance(message, messages.BreakGlassAnnounced):
        return f"Break-glass: {view.requester_name} used break-glass access: {asked}"
    if isinstance(message, messages.ReviewRequested):
        return f"Review break-glass use {view.id} by {view.requester_name}: {asked}"
    return f"Gatepass needs attention: request {view.id}"
