"""What the requester is told about their request, and the message each notice is. Pure."""

from __future__ import annotations

import enum

from core.domain.messages import (
    AccessEnded,
    AccessReady,
    ExpiryWarning,
    Message,
    RequestOutcome,
    RequestReceived,
)
from core.domain.views import RequestView


class Notice(enum.StrEnum):
    RECEIPT = "receipt"  # the request is in; these people decide
    OUTCOME = "outcome"  # approved, denied, cancelled, timed out or failed
    READY = "ready"  # how to connect (after a grant or a password rotation)
    EXPIRY_WARNING = "expiry_warning"  # the access ends soon
    ENDED = "ended"  # the access expired or was revoked


def requester_message(view: RequestView, notice: Notice) -> Message:
    if notice is Notice.RECEIPT:
        return RequestReceived(view)
    if notice is Notice.OUTCOME:
        return RequestOutcome(view)
    if notice is Notice.READY:
        return AccessReady(view, password_waiting=view.password_waiting)
    if notice is Notice.EXPIRY_WARNING:
        return ExpiryWarning(view)
    return AccessEnded(view)
