"""Provisioning: the identity provider creates, changes and removes people and groups.

The SCIM edge parses and validates the protocol's documents and hands these use cases plain
values; here the directory's rules are decided: one person per email and per userName, one
group per name, a person the config file lists is never provisioned too (a contradiction), a
change names the version it was made against (ETags), and a person who stops being active or is
deleted is deprovisioned: in the same transaction a ``deprovision`` job is queued that cancels
their pending requests and revokes their access (``core.jobs.deprovision``). Every change is an
audit event and bumps the directory's change counter, which every replica reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.context import Context
from core.domain.directory import LiveDirectory, normalize_email
from core.jobs.kinds import DeprovisionJob
from core.jobs.queue import enqueue
from core.storage import audit
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


def _key(text: str) -> str:
    return text.strip().casefold()


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise VersionMismatch(
            f"the resource is at version {current}, not {expected}: read it again and retry"
        )


async def _user(session: AsyncSession, user_id: str, *, lock: bool = False) -> DirectoryUser:
    query = sa.select(DirectoryUser).where(
        col(DirectoryUser.id) == user_id, col(DirectoryUser.deleted).is_(False)
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return row


async def _group(session: AsyncSession, group_id: str, *, lock: bool = False) -> DirectoryGroup:
    query = sa.select(DirectoryGroup).where(
        col(DirectoryGroup.id) == group_id, col(DirectoryGroup.deleted).is_(False)
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no group with id {group_id}")
    return row


async def _user_record(session: AsyncSession, row: DirectoryUser) -> UserRecord:
    groups = await stored.groups_of_user(session, row.id)
    return UserRecord(row, tuple((g.id, g.display_name) for g in groups))


async def _group_record(session: AsyncSession, row: DirectoryGroup) -> GroupRecord:
    query = (
        sa.select(col(DirectoryUser.id), col(DirectoryUser.display_name))
        .join(DirectoryMember, col(DirectoryMember.user_id) == col(DirectoryUser.id))
        .where(col(DirectoryMember.group_id) == row.id)
        .order_by(col(DirectoryUser.id))
    )
    members = tuple((i, n) for i, n in (await session.execute(query)).all())
    return GroupRecord(row, members)


def _refuse_config_person(ctx: Context, email: str) -> None:
    config_people = {u.email for u in ctx.config.directory.users}
    if email in config_people:
        raise Conflict(
            f"{email} is listed in the config file's directory.users: a person comes from one "
            "place only. Remove them from the config file (and restart) to provision them."
        )


async def _check_unique_user(
    session: AsyncSession, data: UserInput, email: str, *, except_id: str | None
) -> DirectoryUser | None:
    """The tombstone a new person may take the place of; Conflict when someone else holds
    the userName or the email."""
    holder = (
        await session.execute(
            sa.select(DirectoryUser).where(col(DirectoryUser.user_name_key) == _key(data.user_name))
        )
    ).scalar_one_or_none()
    if holder is not None and holder.id != except_id:
        raise Conflict(f"userName {data.user_name!r} is already provisioned")
    same_email = await session.get(DirectoryUser, email)
    if same_email is not None and same_email.id != except_id and not same_email.deleted:
        raise Conflict(f"a user with email {email} is already provisioned")
    return same_email if same_email is not None and same_email.deleted else None


def _references(row: DirectoryUser) -> tuple[list[str], list[str]]:
    """What a report's ``manager.value`` may name this person by: (exact, case-insensitive)."""
    exact = [row.id.split("~", 1)[0], *([row.external_id] if row.external_id else [])]
    folded = [row.email, *([row.user_name_key] if row.user_name_key else [])]
    return exact, folded


async def _dependents(session: AsyncSession, refs: tuple[list[str], list[str]]) -> list[str]:
    """The people whose manager is the one ``refs`` name (their manager's email changes)."""
    exact, folded = refs
    rows = await session.execute(
        sa.select(col(DirectoryUser.id)).where(
            sa.or_(
                col(DirectoryUser.manager_id).in_(exact),
                sa.func.lower(col(DirectoryUser.manager_id)).in_(folded),
            )
        )
    )
    return list(rows.scalars())


async def _deprovision(
    ctx: Context, session: AsyncSession, email: str, why: str, *, revision: int
) -> None:
    now = ctx.clock.now()
    await audit.record(
        session,
        at=now,
        actor=ACTOR,
        action="directory.deprovisioned",
        detail={"person": email, "why": why},
    )
    await enqueue(session, DeprovisionJob.for_person(email, why=why, revision=revision, at=now))


def _fill(row: DirectoryUser, data: UserInput, email: str) -> None:
    row.email = email
    row.user_name = data.user_name
    row.user_name_key = _key(data.user_name)
    row.external_id = data.external_id
    row.display_name = data.display_name
    row.active = data.active
    row.deleted = False
    row.manager_id = data.manager_id
    row.attributes = dict(data.attributes)
    row.resource = dict(data.resource)


async def create_user(ctx: Context, data: UserInput) -> UserRecord:
    email = normalize_email(data.email)
    _refuse_config_person(ctx, email)
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        tombstone = await _check_unique_user(session, data, email, except_id=None)
        now = ctx.clock.now()
        row = tombstone or DirectoryUser(
            email=email, id="", user_name="", created_at=now, updated_at=now
        )
        _fill(row, data, email)
        row.id = uuid.uuid4().hex
        row.version = 1 if tombstone is None else row.version + 1
        row.revision = revision
        row.created_at = now
        row.updated_at = now
        session.add(row)
        await session.flush()
        await stored.touch_users(session, await _dependents(session, _references(row)), revision)
        await audit.record(
            session,
            at=now,
            actor=ACTOR,
            action="directory.user_created",
            detail={"person": email, "id": row.id, "active": row.active},
        )
        record = await _user_record(session, row)
    ctx.doorbell.ring()
    return record


async def replace_user(
    ctx: Context, user_id: str, data: UserInput, *, expected_version: int | None = None
) -> UserRecord:
    """PUT, and PATCH once the edge applied the operations to the current document."""
    email = normalize_email(data.email)
    _refuse_config_person(ctx, email)
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        row = await _user(session, user_id, lock=True)
        _check_version(row.version, expected_version)
        tombstone = await _check_unique_user(session, data, email, except_id=user_id)
        now = ctx.clock.now()
        was_active, old_email = row.active, row.email
        before = _references(row)
        if email != old_email:
            # The email is the key: the old one becomes a tombstone, the person moves.
            if tombstone is not None:
                await session.delete(tombstone)
                await session.flush()
            moved = DirectoryUser(
                email=email, id=row.id, user_name="", created_at=row.created_at, updated_at=now
            )
            row.id = f"{row.id}~{revision}"
            row.deleted, row.active, row.user_name_key = True, False, None
            row.revision = revision
            await session.flush()
            _fill(moved, data, email)
            moved.version = row.version + 1
            moved.revision = revision
            session.add(moved)
            await session.flush()
            await _deprovision(ctx, session, old_email, "email changed", revision=revision)
            row = moved
        else:
            _fill(row, data, email)
            row.version += 1
            row.revision = revision
            row.updated_at = now
        after = _references(row)
        refs = (before[0] + after[0], before[1] + after[1])
        await stored.touch_users(session, await _dependents(session, refs), revision)
        await audit.record(
            session,
            at=now,
            actor=ACTOR,
            action="directory.user_updated",
            detail={"person": email, "id": row.id, "active": row.active},
        )
        if was_active and not row.active:
            await _deprovision(ctx, session, email, "deactivated", revision=revision)
        record = await _user_record(session, row)
    ctx.doorbell.ring()
    return record


async def delete_user(ctx: Context, user_id: str) -> None:
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        row = await _user(session, user_id, lock=True)
        now = ctx.clock.now()
        refs = _references(row)
        groups = await stored.groups_of_user(session, user_id)
        await session.execute(
            sa.delete(DirectoryMember).where(col(DirectoryMember.user_id) == user_id)
        )
        for group in groups:
            group.version += 1
            group.updated_at = now
        row.deleted, row.active, row.user_name_key, row.external_id = True, False, None, None
        row.revision, row.updated_at = revision, now
        await stored.touch_users(session, await _dependents(session, refs), revision)
        await audit.record(
            session,
            at=now,
            actor=ACTOR,
            action="directory.user_deleted",
            detail={"person": row.email, "id": user_id},
        )
        await _deprovision(ctx, session, row.email, "deleted", revision=revision)
    ctx.doorbell.ring()


async def get_user(ctx: Context, user_id: str) -> UserRecord:
    async with ctx.store.reading() as session:
        return await _user_record(session, await _user(session, user_id))


async def list_users(
    ctx: Context, *, user_name: str | None = None, external_id: str | None = None
) -> list[UserRecord]:
    """Every provisioned user (or the one with that userName / externalId), by id; the edge
    applies any other filter."""
    query = sa.select(DirectoryUser).where(col(DirectoryUser.deleted).is_(False))
    if user_name is not None:
        query = query.where(col(DirectoryUser.user_name_key) == _key(user_name))
    if external_id is not None:
        query = query.where(col(DirectoryUser.external_id) == external_id)
    async with ctx.store.reading() as session:
        rows = list((await session.execute(query.order_by(col(DirectoryUser.id)))).scalars())
        memberships = await session.execute(
            sa.select(
                col(DirectoryMember.user_id),
                col(DirectoryGroup.id),
                col(DirectoryGroup.display_name),
            )
            .join(DirectoryGroup, col(DirectoryGroup.id) == col(DirectoryMember.group_id))
            .where(col(DirectoryMember.user_id).in_([r.id for r in rows]))
            if user_name is not None or external_id is not None
            else sa.select(
                col(DirectoryMember.user_id),
                col(DirectoryGroup.id),
                col(DirectoryGroup.display_name),
            ).join(DirectoryGroup, col(DirectoryGroup.id) == col(DirectoryMember.group_id))
        )
        by_user: dict[str, list[tuple[str, str]]] = {}
        for user, group_id, name in memberships:
            by_user.setdefault(user, []).append((group_id, name))
    return [UserRecord(r, tuple(sorted(by_user.get(r.id, []), key=lambda g: g[1]))) for r in rows]


async def _check_members(session: AsyncSession, member_ids: Sequence[str]) -> list[str]:
    ids = sorted(set(member_ids))
    if not ids:
        return []
    found = set(
        (
            await session.execute(
                sa.select(col(DirectoryUser.id)).where(
                    col(DirectoryUser.id).in_(ids), col(DirectoryUser.deleted).is_(False)
                )
            )
        ).scalars()
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise ProvisioningError(f"no user with id {', '.join(missing[:5])}: provision them first")
    return ids


async def _check_unique_group(session: AsyncSession, name: str, *, except_id: str | None) -> None:
    holder = (
        await session.execute(
            sa.select(col(DirectoryGroup.id)).where(col(DirectoryGroup.display_key) == _key(name))
        )
    ).scalar_one_or_none()
    if holder is not None and holder != except_id:
        raise Conflict(f"a group named {name!r} is already provisioned")


async def create_group(ctx: Context, data: GroupInput) -> GroupRecord:
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        await _check_unique_group(session, data.display_name, except_id=None)
        members = await _check_members(session, data.member_ids)
        now = ctx.clock.now()
        row = DirectoryGroup(
            id=uuid.uuid4().hex,
            display_name=data.display_name,
            display_key=_key(data.display_name),
            external_id=data.external_id,
            resource=dict(data.resource),
            revision=revision,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.add_all(DirectoryMember(group_id=row.id, user_id=m) for m in members)
        await session.flush()
        await stored.touch_users(session, members, revision)
        await audit.record(
            session,
            at=now,
            actor=ACTOR,
            action="directory.group_created",
            detail={"group": row.display_name, "id": row.id, "members": len(members)},
        )
        record = await _group_record(session, row)
    ctx.doorbell.ring()
    return record


async def replace_group(
    ctx: Context, group_id: str, data: GroupInput, *, expected_version: int | None = None
) -> GroupRecord:
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        row = await _group(session, group_id, lock=True)
        _check_version(row.version, expected_version)
        await _check_unique_group(session, data.display_name, except_id=group_id)
        members = set(await _check_members(session, data.member_ids))
        before = set(await stored.members_of_group(session, group_id))
        added, removed = members - before, before - members
        if removed:
            await session.execute(
                sa.delete(DirectoryMember).where(
                    col(DirectoryMember.group_id) == group_id,
                    col(DirectoryMember.user_id).in_(sorted(removed)),
                )
            )
        session.add_all(DirectoryMember(group_id=group_id, user_id=m) for m in sorted(added))
        renamed = row.display_name != data.display_name
        now = ctx.clock.now()
        row.display_name, row.display_key = data.display_name, _key(data.display_name)
        row.external_id, row.resource = data.external_id, dict(data.resource)
        row.version += 1
        row.revision, row.updated_at = revision, now
        await session.flush()
        await stored.touch_users(
            session, (members | before) if renamed else added | removed, revision
        )
        await audit.record(
            session,
            at=now,
            actor=ACTOR,
            action="directory.group_updated",
            detail={
                "group": row.display_name,
                "id": row.id,
                "added": len(added),
                "removed": len(removed),
            },
        )
        record = await _group_record(session, row)
    ctx.doorbell.ring()
    return record


async def delete_group(ctx: Context, group_id: str) -> None:
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        row = await _group(session, group_id, lock=True)
        members = await stored.members_of_group(session, group_id)
        await session.execute(
            sa.delete(DirectoryMember).where(col(DirectoryMember.group_id) == group_id)
        )
        now = ctx.clock.now()
        row.deleted, row.display_key, row.external_id = True, None, None
        row.revision, row.updated_at = revision, now
        await stored.touch_users(session, members, revision)
        await audit.record(
            session,
            at=now,
            actor=ACTOR,
            action="directory.group_deleted",
            detail={"group": row.display_name, "id": group_id},
        )
    ctx.doorbell.ring()


async def get_group(ctx: Context, group_id: str) -> GroupRecord:
    async with ctx.store.reading() as session:
        return await _group_record(session, await _group(session, group_id))


async def list_groups(ctx: Context, *, display_name: str | None = None) -> list[GroupRecord]:
    query = sa.select(DirectoryGroup).where(col(DirectoryGroup.deleted).is_(False))
    if display_name is not None:
        query = query.where(col(DirectoryGroup.display_key) == _key(display_name))
    async with ctx.store.reading() as session:
        rows = list((await session.execute(query.order_by(col(DirectoryGroup.id)))).scalars())
        found = await session.execute(
            sa.select(
                col(DirectoryMember.group_id),
                col(DirectoryUser.id),
                col(DirectoryUser.display_name),
            ).join(DirectoryUser, col(DirectoryUser.id) == col(DirectoryMember.user_id))
        )
        by_group: dict[str, list[tuple[str, str]]] = {}
        for group_id, user_id, name in found:
            by_group.setdefault(group_id, []).append((user_id, name))
    return [GroupRecord(r, tuple(sorted(by_group.get(r.id, [])))) for r in rows]


class Contradiction(Exception):
    """The config file names people SCIM provisions: refused at start."""


async def load(ctx: Context) -> tuple[int, int]:
    """Load the provisioned directory at start: (people from SCIM, people from the config
    file); Contradiction when someone is defined in both places."""
    directory = ctx.directory
    if not isinstance(directory, LiveDirectory):
        return 0, len(ctx.config.directory.users)
    async with ctx.store.reading() as session:
        await stored.refresh(session, directory)
    both = directory.contradictions()
    if both:
        raise Contradiction(
            f"{', '.join(both[:10])} {'is' if len(both) == 1 else 'are'} listed in the config "
            "file's directory.users and also provisioned over SCIM; a person comes from one "
            "place only: remove them from the config file or deprovision them in the identity "
            "provider"
        )
    from_config = len(directory.config.everyone())
    return len(directory.everyone()) - from_config, from_config
