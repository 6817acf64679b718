"""Provisioning's vocabulary: the identity provider creates, changes and removes people and
groups, and these are the refusals, inputs, records and lookups every part of it shares.

The SCIM edge parses and validates the protocol's documents and hands the use cases plain
values (``UserInput``, ``GroupInput``); the directory's rules are decided in
``core.use_cases.user_provisioning`` and ``core.use_cases.group_provisioning``, its reads in
``core.use_cases.directory_listing`` and its loading at start in
``core.use_cases.directory_loading``. A change names the version it was made against (ETags):
``check_version`` refuses one made against another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.storage import directory as stored
from core.storage.models import DirectoryGroup, DirectoryMember, DirectoryUser

ACTOR = "scim"


class ProvisioningError(Exception):
    """A refusal the SCIM edge renders as an error body: HTTP ``status`` and ``scim_type``."""

    status = 400
    scim_type: str | None = "invalidValue"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Conflict(ProvisioningError):
    status = 409
    scim_type = "uniqueness"


class NotFound(ProvisioningError):
    status = 404
    scim_type = None


class VersionMismatch(ProvisioningError):
    status = 412
    scim_type = None


@dataclass(frozen=True)
class UserInput:
    user_name: str
    email: str
    display_name: str = ""
    external_id: str | None = None
    active: bool = True
    manager_id: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)  # the document as sent, for reads


@dataclass(frozen=True)
class GroupInput:
    display_name: str
    external_id: str | None = None
    member_ids: tuple[str, ...] = ()
    resource: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UserRecord:
    row: DirectoryUser
    groups: tuple[tuple[str, str], ...]  # (group id, display name)


@dataclass(frozen=True)
class GroupRecord:
    row: DirectoryGroup
    members: tuple[tuple[str, str], ...]  # (user id, display name)


def name_key(text: str) -> str:
    return text.strip().casefold()


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise VersionMismatch(
            f"the resource is at version {current}, not {expected}: read it again and retry"
        )


async def user_row(session: AsyncSession, user_id: str, *, lock: bool = False) -> DirectoryUser:
    query = sa.select(DirectoryUser).where(
        col(DirectoryUser.id) == user_id, col(DirectoryUser.deleted).is_(False)
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return row


async def group_row(session: AsyncSession, group_id: str, *, lock: bool = False) -> DirectoryGroup:
    query = sa.select(DirectoryGroup).where(
        col(DirectoryGroup.id) == group_id, col(DirectoryGroup.deleted).is_(False)
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no group with id {group_id}")
    return row


async def user_record(session: AsyncSession, row: DirectoryUser) -> UserRecord:
    groups = await stored.groups_of_user(session, row.id)
    return UserRecord(row, tuple((g.id, g.display_name) for g in groups))


async def group_record(session: AsyncSession, row: DirectoryGroup) -> GroupRecord:
    query = (
        sa.select(col(DirectoryUser.id), col(DirectoryUser.display_name))
        .join(DirectoryMember, col(DirectoryMember.user_id) == col(DirectoryUser.id))
        .where(col(DirectoryMember.group_id) == row.id)
        .order_by(col(DirectoryUser.id))
    )
    members = tuple((i, n) for i, n in (await session.execute(query)).all())
    return GroupRecord(row, members)
