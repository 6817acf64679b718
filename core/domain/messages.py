"""What Gatepass tells people, as domain objects. Each notifier renders them for its platform.

None of these ever holds a password: ``AccessReady`` says whether one waits for its single reveal,
and the edge asks core for it when the requester presses "Reveal password".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from core.domain.views import ApproverView, RequestView


@dataclass(frozen=True)
class ApprovalRequested:
    """To one approver: decide on this request. Also the body of every later update of that
    message: once the request is no longer pending it renders as the final state, buttons gone
    — but for an integration owner's copy of an active grant, which carries "Revoke now". An
    owner not asked to approve gets such a copy when the grant becomes active."""

    request: RequestView
    approver: ApproverView
    reminder: bool = False
    may_revoke: bool = False  # the reader owns the integration: "Revoke now" while active


@dataclass(frozen=True)
class RequestReceived:
    """To the requester: your request is in, these people will decide (with a Cancel button)."""

    request: RequestView


@dataclass(frozen=True)
class RequestOutcome:
    """To the requester: approved, denied (with reason), cancelled, timed out or failed."""

    request: RequestView


@dataclass(frozen=True)
class AccessReady:
    """To the requester: how to connect, until when; a password waits for one reveal."""

    request: RequestView
    password_waiting: bool


@dataclass(frozen=True)
class ExpiryWarning:
    """To the requester: the access ends soon (with Extend and I'm done)."""

    request: RequestView


@dataclass(frozen=True)
class AccessEnded:
    """To the requester: the access expired or was revoked."""

    request: RequestView


@dataclass(frozen=True)
class OwnerAlert:
    """To integration owners: something needs a person (a grant failed, a revocation keeps
    failing, approvers could not be reached)."""

    request: RequestView
    problem: str


class Review(enum.StrEnum):
    """An integration owner's review of a break-glass use."""

    ACKNOWLEDGED = "acknowledged"
    FLAGGED = "flagged"


@dataclass(frozen=True)
class ReviewState:
    """Whether a break-glass use has been reviewed, by whom, how."""

    review: Review | None = None
    by_name: str | None = None
    at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.review is not None


@dataclass(frozen=True)
class BreakGlassAnnounced:
    """To the broadcast channels: who used break-glass access to what, why, until when."""

    request: RequestView
    review: ReviewState


@dataclass(frozen=True)
class ReviewRequested:
    """To one integration owner: review this break-glass use (Acknowledge / Flag buttons);
    rendered as its final state, buttons gone, once someone has reviewed it."""

    request: RequestView
    review: ReviewState
    owner: str
    reminder: bool = False


Message = (
    ApprovalRequested
    | RequestReceived
    | RequestOutcome
    | AccessReady
    | ExpiryWarning
    | AccessEnded
    | OwnerAlert
    | BreakGlassAnnounced
    | ReviewRequested
)
