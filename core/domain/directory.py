"""People, groups and attributes.

People are keyed by lower-cased email on every platform. ``user`` (the email) and ``group`` are
built-in attributes; any other key (``team``, ``manager``) is a custom attribute. The config file's
``directory:`` section is the embedded implementation; an identity provider can replace it behind
the ``Directory`` protocol.
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
