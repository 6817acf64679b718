"""Break-glass, in the domain's words: the errors, and the sentences of its messages (the
channel broadcast and the owners' review request, in ``core.domain.messages``), which both
chat platforms show as they are. Pure.
"""

from __future__ import annotations

from datetime import datetime

from core.domain.durations import describe_duration
from core.domain.errors import GatepassError, InvalidRequest, NotAllowed
from core.domain.messages import BreakGlassAnnounced, Review, ReviewRequested, ReviewState
from core.domain.sentences import At, Phrase, Said, what
from core.domain.views import RequestView

BROADCAST = "break_glass"  # the purpose of a posted broadcast (``posted_messages``)
REVIEW = "break_glass_review"  # of an owner's review request (``:<round>`` for reminders)
WARNING = (
    "This is break-glass access: you approve it yourself, it is granted at once, it is "
    "announced to everybody concerned and the integration owners review it afterwards. "
    "Use it only when nobody can approve in time."
)


def reason_hint(minimum: int) -> str:
    return (
        f"Required, at least {minimum} characters: what is broken and why it cannot wait. "
        "Everybody told of this use reads it."
    )


def reason_label(minimum: int) -> str:
    return f"Reason for breaking the glass (required, at least {minimum} characters)"


def review_of(value: object) -> Review:
    try:
        return Review(str(value))
    except ValueError:
        raise InvalidRequest(f"{value!r} is not a review (acknowledged or flagged).") from None


# --------------------------------------------------------------------------- errors


class ReasonTooShort(InvalidRequest):
    def __init__(self, minimum: int, given: int) -> None:
        super().__init__(
            f"Break-glass access needs a reason of at least {minimum} characters "
            f"(yours has {given}): say what is broken and why it cannot wait.",
            field="justification",
        )


class LimitReached(NotAllowed):
    def __init__(self, limit: int) -> None:
        uses = "use" if limit == 1 else "uses"
        super().__init__(
            f"You have used break-glass access {limit} time{'s' if limit != 1 else ''} today, "
            f"the most this access flow allows ({limit} {uses} a day, UTC). Nothing was "
            "requested: ask an approver, or an integration owner, the ordinary way."
        )


class NotAReviewer(NotAllowed):
    def __init__(self, *, own: bool) -> None:
        super().__init__(
            "You cannot review your own break-glass use: another integration owner does."
            if own
            else "Only the integration's owners review break-glass uses."
        )


class NotBreakGlass(InvalidRequest):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"Request {request_id} was not break-glass access: nothing to review.")


class AlreadyReviewed(GatepassError):
    def __init__(self, request_id: str, *, review: str, by: str) -> None:
        super().__init__(f"The break-glass use {request_id} was already {review} by {by}.")


# --------------------------------------------------------------------------- sentences


def until(view: RequestView) -> datetime:
    """When the access ends: its window's end, or (before it starts) the latest it can."""
    if view.ends_at is not None:
        return view.ends_at
    start = view.decided_at or view.created_at
    return start + view.duration


def announcement(view: RequestView) -> Phrase:
    """``Alice Doe used break-glass access: read on database analytics (prod-atlas)``."""
    return (Said(view.requester_name, strong=True), " used break-glass access: ", *what(view))


def period(view: RequestView) -> Phrase:
    """``For 1 hour, until <time>``."""
    return (f"For {describe_duration(view.duration)}, until ", At(until(view)))


def review_line(review: ReviewState) -> Phrase:
    if review.review is None:
        return ("Not reviewed yet: the integration owners review every break-glass use.",)
    sign = "Acknowledged" if review.review is Review.ACKNOWLEDGED else "Flagged"
    return (f"{sign} by ", Said(review.by_name or "?"), " at ", At(review.at), ".")


def review_ask(reminder: bool) -> str:
    lead = "Reminder: nobody has reviewed this yet. " if reminder else ""
    return (
        f"{lead}Please review: Acknowledge if the use was justified, Flag it if it was not "
        "(the access stays until it ends; revoke it if it must end now)."
    )


__all__ = ["BreakGlassAnnounced", "Review", "ReviewRequested", "ReviewState"]
