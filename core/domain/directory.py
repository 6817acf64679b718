"""People, groups and attributes.

People are keyed by lower-cased email on every platform. ``user`` (the email) and ``group`` are
built-in attributes; any other key (``team``, ``manager``) is a custom attribute. The config file's
``directory:`` section is the embedded implementation; with ``directory.scim`` the identity
provider provisions people and groups into the database and ``LiveDirectory`` combines the two.

Precedence: a person is defined in exactly one place. Everyone the identity provider provisions
comes from SCIM (name, groups, attributes, manager, active); the config file's
``directory.users`` keeps the people SCIM does not know (break-glass admins, service accounts).
The same email in both is a contradiction: SCIM refuses to provision a person the config file
lists, and Gatepass refuses to start when the config file names someone SCIM already provisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from core.config.schema import DirectoryConfig, Principal


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""
    groups: frozenset[str] = frozenset()
    attributes: dict[str, str] = field(default_factory=dict, hash=False)
    source: str = "config"  # where the person comes from: "config" (gatepass.yml) or "scim"

    @property
    def label(self) -> str:
        return self.name or self.email

    def has(self, attribute: str, value: str) -> bool:
        if attribute in ("user", "email"):
            return self.email == value.strip().lower()
        if attribute == "group":
            return value in self.groups
        return self.attributes.get(attribute) == value


def normalize_email(email: str) -> str:
    return email.strip().lower()


class Directory(Protocol):
    def person(self, email: str) -> Person | None: ...

    def members(self, attribute: str, value: str) -> list[Person]:
        """Everyone with ``attribute`` = ``value``, in a stable order."""
        ...


class ConfigDirectory:
    """The directory written in the config file."""

    def __init__(self, config: DirectoryConfig) -> None:
        self._people = {
            user.email: Person(
                email=user.email,
                name=user.name,
                groups=frozenset(user.groups),
                attributes=dict(user.attributes),
            )
            for user in config.users
        }

    def person(self, email: str) -> Person | None:
        return self._people.get(normalize_email(email))

    def members(self, attribute: str, value: str) -> list[Person]:
        return [p for p in self._people.values() if p.has(attribute, value)]

    def everyone(self) -> list[Person]:
        return list(self._people.values())


@dataclass(frozen=True)
class Provisioned:
    """One person's state as provisioned: ``person`` None when deactivated or ``deleted``."""

    email: str
    revision: int
    person: Person | None
    deleted: bool = False


class LiveDirectory:
    """The config file's people plus the people provisioned over SCIM, kept in memory.

    The storage layer brings it up to date at the start of every database transaction (it
    reads the directory's change counter, one row, and loads only the people changed since the
    version this copy was built at), so each use case sees the directory as it is in the
    database on every replica, with no restart. ``apply`` takes those changes; it is pure.
    """

    def __init__(self, config: DirectoryConfig) -> None:
        self.config = ConfigDirectory(config)
        self.version = -1  # the change counter this copy reflects; -1: not loaded yet
        self._provisioned: dict[str, Person] = {}
        self._revisions: dict[str, int] = {}
        self._inactive: set[str] = set()  # provisioned but deactivated: in nobody's lists
        self._index: dict[tuple[str, str], list[Person]] | None = None

    def apply(self, version: int, changes: Iterable[Provisioned]) -> None:
        """Take the people changed in the database; a change older than the one already
        applied for that email is ignored."""
        for change in changes:
            if self._revisions.get(change.email, -1) > change.revision:
                continue
            self._revisions[change.email] = change.revision
            self._provisioned.pop(change.email, None)
            self._inactive.discard(change.email)
            if change.person is not None:
                self._provisioned[change.email] = change.person
            elif not change.deleted:
                self._inactive.add(change.email)
            self._index = None
        self.version = max(self.version, version)

    def person(self, email: str) -> Person | None:
        key = normalize_email(email)
        if self._shadowed(key):
            return self._provisioned.get(key)
        return self.config.person(key)

    def _shadowed(self, email: str) -> bool:
        return email in self._provisioned or email in self._inactive

    def provisioned(self, email: str) -> bool:
        """Whether SCIM provisions this person (active or deactivated, not deleted)."""
        return self._shadowed(normalize_email(email))

    def deactivated(self, email: str) -> bool:
        return normalize_email(email) in self._inactive

    def everyone(self) -> list[Person]:
        config = [p for p in self.config.everyone() if not self._shadowed(p.email)]
        return config + sorted(self._provisioned.values(), key=lambda p: p.email)

    def members(self, attribute: str, value: str) -> list[Person]:
        if attribute in ("user", "email"):
            found = self.person(value)
            return [found] if found is not None else []
        if self._index is None:
            index: dict[tuple[str, str], list[Person]] = {}
            for person in self.everyone():
                for group in sorted(person.groups):
                    index.setdefault(("group", group), []).append(person)
                for key, item in person.attributes.items():
                    index.setdefault((key, item), []).append(person)
            self._index = index
        return list(self._index.get((attribute, value), ()))

    def contradictions(self) -> list[str]:
        """The emails both the config file and SCIM define (refused at start)."""
        return sorted(p.email for p in self.config.everyone() if self._shadowed(p.email))


def manager_of(directory: Directory, person: Person) -> Person | None:
    """The person's manager (the ``manager`` attribute: an email), when in the directory."""
    email = person.attributes.get("manager")
    return directory.person(email) if email else None


def matches_any(person: Person, principals: Iterable[Principal]) -> bool:
    return any(person.has(p.attribute, p.value) for p in principals)


def members_of(
    directory: Directory, principals: Iterable[Principal]
) -> list[tuple[Person, Principal]]:
    """Each person selected by ``principals``, with the first principal that selected them."""
    chosen: dict[str, tuple[Person, Principal]] = {}
    for principal in principals:
        for person in directory.members(principal.attribute, principal.value):
            chosen.setdefault(person.email, (person, principal))
    return list(chosen.values())
