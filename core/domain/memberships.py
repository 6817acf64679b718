"""Atlas UI memberships Gatepass knows it touched: which it created (an invitation to the
organization, or joining a person to a project) and which it only added roles to. Atlas keeps no
label on a membership, so this record is how the reconciler tells Gatepass's own memberships
(removed once no grant covers them) from everybody else's (reported, never removed). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

ORGANIZATION: Final = "org"  # the scope of an organization membership; else a project id


@dataclass(frozen=True)
class Membership:
    """One membership of ``person`` (their Atlas username, a lower-cased email) in ``scope``.

    ``created``: Gatepass made it. ``user_id``: Atlas's id for it when last seen (None while
    the call that makes it has not answered: written before the call, so that a crash in
    between still leaves the record). ``pending``: it was an invitation not yet accepted.
    """

    person: str
    scope: str
    created: bool
    recorded_at: datetime
    user_id: str | None = None
    pending: bool = False


class MembershipLedger(Protocol):
    """Where an integration keeps its memberships' record (the database, in production)."""

    async def record(self, integration: str, membership: Membership) -> None:
        """Write ``membership``, replacing the one of the same person and scope."""
        ...

    async def forget(self, integration: str, person: str, scope: str | None = None) -> None:
        """Drop the person's record in ``scope`` (every scope when None)."""
        ...

    async def memberships(self, integration: str, person: str | None = None) -> list[Membership]:
        """The records, of one person or of everybody, ordered by person and scope."""
        ...
