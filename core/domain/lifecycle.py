"""The request lifecycle: its statuses, the decisions that move a pending request, and the one
table of moves between them. Pure.

``core.storage.transitions.transition()`` is the only code that moves a request along this table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

SYSTEM = "gatepass"
"""The actor of what Gatepass does by itself (timeouts, escalations, automatic approvals)."""


class Status(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    GRANTING = "granting"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    DENIED = "denied"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    EXTENDED = "extended"  # an extension, added to the grant it extends (whose window runs on)


class Outcome(enum.StrEnum):
    """What an approver decides."""

    APPROVE = "approve"
    DENY = "deny"


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.APPROVED, Status.DENIED, Status.CANCELLED, Status.TIMED_OUT}),
    Status.APPROVED: frozenset({Status.GRANTING, Status.REVOKED}),
    # A grant's window starts when its access is made, before Atlas reports it usable: it can
    # end (expire, be revoked) while still granting.
    Status.GRANTING: frozenset(
        {Status.ACTIVE, Status.FAILED, Status.EXPIRED, Status.REVOKED, Status.EXTENDED}
    ),
    Status.ACTIVE: frozenset({Status.EXPIRED, Status.REVOKED}),
}
ACTION = {
    Status.APPROVED: "request.approved",
    Status.GRANTING: "grant.started",
    Status.ACTIVE: "grant.active",
    Status.EXPIRED: "grant.expired",
    Status.REVOKED: "grant.revoked",
    Status.DENIED: "request.denied",
    Status.CANCELLED: "request.cancelled",
    Status.TIMED_OUT: "request.timed_out",
    Status.FAILED: "grant.failed",
    Status.EXTENDED: "extension.applied",
}


class IllegalTransition(ValueError):
    """A programming error: the table does not allow this move."""


def allowed(source: Status, target: Status) -> bool:
    return target in TRANSITIONS.get(source, frozenset())
