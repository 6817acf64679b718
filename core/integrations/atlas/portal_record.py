"""The Portal integration's record of the memberships it touched (``core.domain.memberships``),
and the rule that tells whether a membership Atlas shows now is the one Gatepass created.

Atlas keeps no label on an organization membership, and an invitation's id is not the id of
the membership it becomes: once accepted, Atlas lists the person under their own user id. So a
record names the person and scope, the id last seen, and whether that was a pending invitation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Final

from core.domain.memberships import ORGANIZATION, Membership, MembershipLedger
from core.domain.ports import Clock, ManagedAccess
from core.integrations.atlas.portal_roles import RoleSet
from core.integrations.atlas.users import parse_atlas_time

PENDING: Final = "PENDING"
ACTIVE: Final = "ACTIVE"
# Atlas's clock and ours differ a little: an invitation stamped this much before the record
# that announced it is still the one Gatepass sent.
CLOCK_SKEW: Final = timedelta(minutes=5)


def status(user: dict[str, Any]) -> str:
    return str(user.get("orgMembershipStatus", ""))


def same_membership(record: Membership, user: dict[str, Any]) -> bool:
    """True when ``user`` (Atlas's membership now) is the one ``record`` describes."""
    if record.user_id is None:  # written before the invitation: is this that invitation?
        sent = parse_atlas_time(user.get("invitationCreatedAt"))
        return (
            status(user) == PENDING
            and sent is not None
            and sent >= record.recorded_at - (CLOCK_SKEW)
        )
    if record.user_id == str(user.get("id")):
        return True
    return record.pending and status(user) == ACTIVE  # accepted: now under the person's own id


class PortalRecord:
    """One integration's view of the ledger; without a ledger nothing is recorded."""

    def __init__(self, integration: str, ledger: MembershipLedger | None, clock: Clock) -> None:
        self.integration = integration
        self._ledger = ledger
        self._clock = clock

    @property
    def kept(self) -> bool:
        return self._ledger is not None

    async def of(self, person: str) -> dict[str, Membership]:
        if self._ledger is None:
            return {}
        found = await self._ledger.memberships(self.integration, person)
        return {record.scope: record for record in found}

    async def everybody(self) -> dict[str, dict[str, Membership]]:
        if self._ledger is None:
            return {}
        people: dict[str, dict[str, Membership]] = {}
        for record in await self._ledger.memberships(self.integration):
            people.setdefault(record.person, {})[record.scope] = record
        return people

    async def write(
        self, person: str, scope: str, *, created: bool, user: dict[str, Any] | None = None
    ) -> None:
        if self._ledger is None:
            return
        membership = Membership(
            person=person,
            scope=scope,
            created=created,
            recorded_at=self._clock.now(),
            user_id=str(user["id"]) if user is not None else None,
            pending=user is not None and status(user) == PENDING,
        )
        await self._ledger.record(self.integration, membership)

    async def touched(self, person: str, user: dict[str, Any], records: Iterable[str]) -> None:
        """A membership Gatepass found: remember it only as one it did not create."""
        if ORGANIZATION not in records:
            await self.write(person, ORGANIZATION, created=False, user=user)

    async def seen(self, person: str, user: dict[str, Any]) -> None:
        """Follow Gatepass's own membership to its new id once its invitation is accepted."""
        record = (await self.of(person)).get(ORGANIZATION)
        if record is None or not record.created or not same_membership(record, user):
            return
        if record.user_id != str(user.get("id")) or record.pending != (status(user) == PENDING):
            await self.write(person, ORGANIZATION, created=True, user=user)

    async def forget(self, person: str, scope: str | None = None) -> None:
        if self._ledger is not None:
            await self._ledger.forget(self.integration, person, scope)


def created_here(records: dict[str, Membership], user: dict[str, Any] | None) -> bool:
    """True when the organization membership ``user`` is one Gatepass created."""
    record = records.get(ORGANIZATION)
    return (
        user is not None
        and record is not None
        and record.created
        and (same_membership(record, user))
    )


def joined_projects(records: dict[str, Membership], user: dict[str, Any]) -> list[str]:
    """The projects Gatepass joined the person to that they are still in."""
    held = RoleSet.of_user(user).projects
    return sorted(
        scope
        for scope, record in records.items()
        if scope != ORGANIZATION and record.created and scope in held
    )


def managed_access(
    person: str, records: dict[str, Membership], user: dict[str, Any]
) -> ManagedAccess:
    """What the reconciler is told of one recorded person's membership as Atlas shows it."""
    org = records.get(ORGANIZATION)
    if org is not None and org.created:
        if same_membership(org, user):
            detail = f"invitation Gatepass sent ({status(user).lower()})"
            return ManagedAccess(person=person, username=person, detail=detail)
        detail = "the membership Gatepass created was replaced since; left in place"
        return ManagedAccess(person=person, username=person, detail=detail, created=False)
    joined = joined_projects(records, user)
    if joined:
        detail = "projects Gatepass joined: " + ", ".join(joined)
        return ManagedAccess(person=person, username=person, detail=detail)
    detail = "a membership Gatepass did not create; left in place"
    return ManagedAccess(person=person, username=person, detail=detail, created=False)
