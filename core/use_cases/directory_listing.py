"""Listing the provisioned directory: one person or group by id, or all of them (or the one
with a given userName, externalId or displayName); the SCIM edge applies any other filter."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from core.context import Context
from core.storage.models import DirectoryGroup, DirectoryMember, DirectoryUser
from core.use_cases.provisioning import (
    GroupRecord,
    UserRecord,
    group_record,
    group_row,
    name_key,
    user_record,
    user_row,
)


async def get_user(ctx: Context, user_id: str) -> UserRecord:
    async with ctx.store.reading() as session:
        return await user_record(session, await user_row(session, user_id))


async def list_users(
    ctx: Context, *, user_name: str | None = None, external_id: str | None = None
) -> list[UserRecord]:
    """Every provisioned user (or the one with that userName / externalId), by id; the edge
    applies any other filter."""
    query = sa.select(DirectoryUser).where(col(DirectoryUser.deleted).is_(False))
    if user_name is not None:
        query = query.where(col(DirectoryUser.user_name_key) == name_key(user_name))
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


async def get_group(ctx: Context, group_id: str) -> GroupRecord:
    async with ctx.store.reading() as session:
        return await group_record(session, await group_row(session, group_id))


async def list_groups(ctx: Context, *, display_name: str | None = None) -> list[GroupRecord]:
    query = sa.select(DirectoryGroup).where(col(DirectoryGroup.deleted).is_(False))
    if display_name is not None:
        query = query.where(col(DirectoryGroup.display_key) == name_key(display_name))
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
