"""The directory as an administrator reads it: who is in it, in which groups, with which
attributes and manager, and where each of those comes from (the config file's
``directory.users`` or SCIM provisioning).

Only the CLI calls these (``gatepass directory list / show``); like the other administrator
queries it has no viewer to check, because whoever runs it holds the config file and the
database already.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.context import Context
from core.domain.directory import ConfigDirectory, LiveDirectory, Person, normalize_email
from core.domain.errors import GatepassError
from core.storage import directory as stored
from core.storage.models import DirectoryUser

CONFIG = "config file"
SCIM = "SCIM"


class UnknownPerson(GatepassError):
    """The email names nobody in the directory."""


@dataclass(frozen=True)
class Sourced:
    """One fact about a person and where it comes from."""

    value: str
    source: str


@dataclass(frozen=True)
class Entry:
    email: str
    name: str
    source: str  # CONFIG or SCIM: where the person is defined
    active: bool
    groups: tuple[Sourced, ...]
    attributes: dict[str, Sourced]  # custom attributes, the manager excluded
    manager: Sourced | None  # the manager's email
    manager_name: str | None  # None when the manager is not in the directory


def _where(person: Person, what: str) -> str:
    if person.source == "scim":
        return {
            "groups": f"{SCIM} (group memberships pushed by the identity provider)",
            "attributes": f"{SCIM} (user and enterprise extension attributes)",
            "manager": f"{SCIM} (enterprise extension manager.value)",
        }[what]
    return {
        "groups": f"{CONFIG} (directory.users[].groups)",
        "attributes": f"{CONFIG} (directory.users[].attributes)",
        "manager": f"{CONFIG} (directory.users[].attributes.manager)",
    }[what]


def _entry(ctx: Context, person: Person, *, active: bool = True) -> Entry:
    manager_email = person.attributes.get("manager", "").strip()
    manager = ctx.directory.person(manager_email) if manager_email else None
    return Entry(
        email=person.email,
        name=person.name,
        source=SCIM if person.source == "scim" else CONFIG,
        active=active,
        groups=tuple(Sourced(g, _where(person, "groups")) for g in sorted(person.groups)),
        attributes={
            key: Sourced(value, _where(person, "attributes"))
            for key, value in sorted(person.attributes.items())
            if key != "manager"
        },
        manager=Sourced(normalize_email(manager_email), _where(person, "manager"))
        if manager_email
        else None,
        manager_name=manager.label if manager is not None else None,
    )


async def _fresh(ctx: Context) -> None:
    """Bring a live directory up to the database's version."""
    if isinstance(ctx.directory, LiveDirectory):
        async with ctx.store.reading() as session:
            await stored.refresh(session, ctx.directory)


def _everyone(ctx: Context) -> list[Person]:
    directory = ctx.directory
    if isinstance(directory, LiveDirectory | ConfigDirectory):
        return directory.everyone()
    raise TypeError(f"cannot list a {type(directory).__name__}")  # pragma: no cover


async def people(ctx: Context, *, group: str | None = None) -> list[Entry]:
    """Everyone active in the directory (or the members of ``group``), by email."""
    await _fresh(ctx)
    found = ctx.directory.members("group", group) if group is not None else _everyone(ctx)
    return [_entry(ctx, p) for p in sorted(found, key=lambda p: p.email)]


async def person(ctx: Context, email: str) -> Entry:
    """One person; a person SCIM deactivated is shown too (inactive, as last provisioned)."""
    await _fresh(ctx)
    key = normalize_email(email)
    found = ctx.directory.person(key)
    if found is not None:
        return _entry(ctx, found)
    if isinstance(ctx.directory, LiveDirectory) and ctx.directory.deactivated(key):
        async with ctx.store.reading() as session:
            row = await session.get(DirectoryUser, key)
            if row is not None:
                groups = [g.display_name for g in await stored.groups_of_user(session, row.id)]
                ref = row.manager_id or ""
                boss = (await stored.managers_named(session, [ref])).get(ref) if ref else None
                return _entry(ctx, stored.person_of(row, groups, boss), active=False)
    raise UnknownPerson(f"{key} is not in the directory")
