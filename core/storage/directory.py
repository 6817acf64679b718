"""The provisioned directory in the database, and how each replica keeps its copy current.

``watch(store, directory)`` hooks the start of every transaction on the store's engines: it
reads the change counter (one row of ``directory_state``) and, when it moved, loads only the
people whose row changed since (``revision`` > the copy's version) into the ``LiveDirectory``.
A use case therefore reads the directory as the database holds it, on every replica, in the
same transaction as the rest of its work; a replica that sees no change pays one indexed read.

Every provisioning write calls ``bump`` first: it takes the counter's row lock (PostgreSQL) so
changes are numbered in commit order, and stamps each changed person with the new number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.domain.directory import LiveDirectory, Person, Provisioned
from core.storage.models import DirectoryGroup, DirectoryMember, DirectoryState, DirectoryUser
from core.storage.store import Store

log = logging.getLogger("gatepass")
CHUNK = 500
ENTERPRISE_ATTRIBUTES = (
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
)


# ------------------------------------------------------------------ keeping copies current


def _counter(connection: sa.Connection) -> int:
    value = connection.execute(
        sa.select(col(DirectoryState.version)).where(col(DirectoryState.id) == 1)
    ).scalar()
    return int(value or 0)


def _groups_of(connection: sa.Connection, user_ids: Sequence[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for start in range(0, len(user_ids), CHUNK):
        chunk = user_ids[start : start + CHUNK]
        rows = connection.execute(
            sa.select(col(DirectoryMember.user_id), col(DirectoryGroup.display_name))
            .join(DirectoryGroup, col(DirectoryGroup.id) == col(DirectoryMember.group_id))
            .where(col(DirectoryMember.user_id).in_(chunk), col(DirectoryGroup.deleted).is_(False))
        )
        for user_id, name in rows:
            found.setdefault(user_id, set()).add(name)
    return found


def _emails_of(connection: sa.Connection, references: Iterable[str]) -> dict[str, str]:
    """Each manager reference to the email of the person it names: SCIM's ``manager.value``
    is the manager's ``id`` here (what Entra ID sends), or their externalId, userName or email
    (what an Okta mapping of a manager's login sends)."""
    refs = sorted(set(references))
    found: dict[str, str] = {}
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        lowered = sorted({r.strip().casefold() for r in chunk})
        rows = connection.execute(
            sa.select(
                col(DirectoryUser.id),
                col(DirectoryUser.external_id),
                col(DirectoryUser.user_name_key),
                col(DirectoryUser.email),
            ).where(
                col(DirectoryUser.deleted).is_(False),
                sa.or_(
                    col(DirectoryUser.id).in_(chunk),
                    col(DirectoryUser.external_id).in_(chunk),
                    col(DirectoryUser.user_name_key).in_(lowered),
                    col(DirectoryUser.email).in_(lowered),
                ),
            )
        ).all()
        by: list[dict[str, str]] = [{}, {}, {}, {}]
        for row_id, external_id, user_name_key, email in rows:
            by[0][row_id] = email
            if external_id:
                by[1].setdefault(external_id, email)
            if user_name_key:
                by[2].setdefault(user_name_key, email)
            by[3].setdefault(email, email)
        for ref in chunk:
            key = ref.strip().casefold()
            hit = by[0].get(ref) or by[1].get(ref) or by[2].get(key) or by[3].get(key)
            if hit:
                found[ref] = hit
    return found


def person_of(row: Any, groups: Iterable[str], manager: str | None) -> Person:
    attributes = {k: str(v) for k, v in (row.attributes or {}).items() if v not in (None, "")}
    if manager:
        attributes["manager"] = manager
    return Person(
        email=row.email,
        name=row.display_name,
        groups=frozenset(groups),
        attributes=attributes,
        source="scim",
    )


def load_changes(connection: sa.Connection, directory: LiveDirectory) -> None:
    """Bring ``directory`` up to the database's version (synchronous: runs inside the
    transaction's start on its connection)."""
    version = _counter(connection)
    if version == directory.version:
        return
    table = DirectoryUser.__table__  # type: ignore[attr-defined]
    users = connection.execute(sa.select(table).where(table.c.revision > directory.version)).all()
    live = [u for u in users if u.active and not u.deleted]
    groups = _groups_of(connection, [u.id for u in live])
    managers = _emails_of(connection, [u.manager_id for u in live if u.manager_id])
    directory.apply(
        version,
        (
            Provisioned(
                email=u.email,
                revision=u.revision,
                person=person_of(u, groups.get(u.id, ()), managers.get(u.manager_id or ""))
                if u.active and not u.deleted
                else None,
                deleted=u.deleted,
            )
            for u in users
        ),
    )


def watch(store: Store, directory: LiveDirectory) -> None:
    """Refresh ``directory`` at the start of every transaction on ``store``'s engines."""
    for engine in (store.engine, store.reader):
        if engine is None:
            continue

        def _on_begin(connection: sa.Connection) -> None:
            load_changes(connection, directory)

        # After the store's own listener, which issues BEGIN on SQLite.
        sa.event.listen(engine.sync_engine, "begin", _on_begin)


async def refresh(session: AsyncSession, directory: LiveDirectory) -> None:
    """Bring ``directory`` up to date now (a tool that has no transaction yet)."""
    connection = await session.connection()
    await connection.run_sync(lambda sync: load_changes(sync, directory))


async def managers_named(session: AsyncSession, references: Iterable[str]) -> dict[str, str]:
    """Each manager reference (``manager.value`` as provisioned) to its person's email."""
    refs = list(references)
    connection = await session.connection()
    return await connection.run_sync(lambda sync: _emails_of(sync, refs))


# ------------------------------------------------------------------ writes


async def bump(session: AsyncSession) -> int:
    """The next change number; taken first in each provisioning transaction."""
    result = await session.execute(
        sa.update(DirectoryState)
        .where(col(DirectoryState.id) == 1)
        .values(version=col(DirectoryState.version) + 1)
        .returning(col(DirectoryState.version))
    )
    value = result.scalar()
    if value is None:
        session.add(DirectoryState(id=1, version=1))
        await session.flush()
        return 1
    return int(value)


async def touch_users(session: AsyncSession, user_ids: Iterable[str], revision: int) -> None:
    """Stamp people whose derived state changed (their groups, their manager's email)."""
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), CHUNK):
        await session.execute(
            sa.update(DirectoryUser)
            .where(col(DirectoryUser.id).in_(ids[start : start + CHUNK]))
            .values(revision=revision)
        )


async def members_of_group(session: AsyncSession, group_id: str) -> list[str]:
    rows = await session.execute(
        sa.select(col(DirectoryMember.user_id)).where(col(DirectoryMember.group_id) == group_id)
    )
    return sorted(rows.scalars())


async def groups_of_user(session: AsyncSession, user_id: str) -> list[DirectoryGroup]:
    rows = await session.execute(
        sa.select(DirectoryGroup)
        .join(DirectoryMember, col(DirectoryMember.group_id) == col(DirectoryGroup.id))
        .where(col(DirectoryMember.user_id) == user_id, col(DirectoryGroup.deleted).is_(False))
        .order_by(col(DirectoryGroup.display_name))
    )
    return list(rows.scalars())
