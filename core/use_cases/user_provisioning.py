"""Provisioning of people: the identity provider creates, changes and removes users.

One person per email and per userName, a person the config file lists is never provisioned too
(a contradiction), and a person who stops being active or is deleted is deprovisioned: in the
same transaction a ``deprovision`` job is queued that cancels their pending requests and revokes
their access (``core.jobs.deprovision``). Every change is an audit event and bumps the
directory's change counter, which every replica reads.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.context import Context
from core.domain.directory import normalize_email
from core.jobs.kinds import DeprovisionJob
from core.jobs.queue import enqueue
from core.storage import audit
from core.storage import directory as stored
from core.storage.models import DirectoryMember, DirectoryUser
from core.use_cases.provisioning import (
    ACTOR,
    Conflict,
    UserInput,
    UserRecord,
    check_version,
    name_key,
    user_record,
    user_row,
)


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
            sa.select(DirectoryUser).where(
                col(DirectoryUser.user_name_key) == name_key(data.user_name)
            )
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
    row.user_name_key = name_key(data.user_name)
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
        record = await user_record(session, row)
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
        row = await user_row(session, user_id, lock=True)
        check_version(row.version, expected_version)
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
        record = await user_record(session, row)
    ctx.doorbell.ring()
    return record


async def delete_user(ctx: Context, user_id: str) -> None:
    async with ctx.store.transaction() as session:
        revision = await stored.bump(session)
        row = await user_row(session, user_id, lock=True)
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
