"""Provisioning of groups: the identity provider creates, changes and removes groups and
their memberships.

One group per name, and every member must be a provisioned person. Every change is an audit
event and bumps the directory's change counter (and the members' revisions), which every
replica reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.context import Context
from core.storage import audit
from core.storage import directory as stored
from core.storage.models import DirectoryGroup, DirectoryMember, DirectoryUser
from core.use_cases.provisioning import (
    ACTOR,
    Conflict,
    GroupInput,
    GroupRecord,
    ProvisioningError,
    check_version,
    group_record,
    group_row,
    name_key,
)


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
            sa.select(col(DirectoryGroup.id)).where(
                col(DirectoryGroup.display_key) == name_key(name)
            )
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
            display_key=name_key(data.display_name),
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
        record = await group_record(session, row)
    ctx.doorbell.ring()
    return record


async def replace_group(
    ctx: Context, group_id: str, data: GroupInput, *, expected_version: int | None = None
) -> GroupRecord:
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        row = await group_row(session, group_id, lock=True)
        check_version(row.version, expected_version)
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
        row.display_name, row.display_key = data.display_name, name_key(data.display_name)
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
        record = await group_record(session, row)
    ctx.doorbell.ring()
    return record


async def delete_group(ctx: Context, group_id: str) -> None:
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        row = await group_row(session, group_id, lock=True)
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
