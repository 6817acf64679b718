"""Collections by name: MongoDB's rules for a collection name, the ``database.collection``
namespace a collection resource is named by, and whether an access flow's ``collection:`` glob
can match some collection of a given database.

Collections are never discovered (the Atlas Admin API cannot list them): a requester names one
in a discovered database, and these rules decide whether the name can exist. Pure.
"""

from __future__ import annotations

import fnmatch
from typing import Final

COLLECTION: Final = "collection"
DATABASE: Final = "database"
SYSTEM_PREFIX: Final = "system."
MAX_NAMESPACE_BYTES: Final = 255
"""MongoDB's limit for ``database.collection`` (UTF-8 bytes); the Atlas schema's
``collectionName`` sets none of its own."""


def namespace(database: str, collection: str) -> str:
    return f"{database}.{collection}"


def split(name: str) -> tuple[str, str] | None:
    """``("analytics", "events.2024")`` from ``analytics.events.2024`` (a database name never
    holds a dot, a collection name may); None when either part is missing."""
    database, dot, collection = name.partition(".")
    if not dot or not database or not collection:
        return None
    return database, collection


def collection_problem(database: str, collection: str) -> str | None:
    """Why ``collection`` cannot be a collection of ``database``; None when it can."""
    if not collection:
        return "Name the collection."
    if "\x00" in collection:
        return "A collection name cannot contain a null character."
    if "$" in collection:
        return "A collection name cannot contain $."
    if collection.startswith(SYSTEM_PREFIX):
        return (
            f"Collections whose name starts with {SYSTEM_PREFIX} belong to MongoDB itself; "
            "they cannot be requested."
        )
    size = len(namespace(database, collection).encode())
    if size > MAX_NAMESPACE_BYTES:
        room = MAX_NAMESPACE_BYTES - len(database.encode()) - 1
        return (
            f"The collection name is too long: in database {database} it may be at most {room} "
            f"bytes (database and collection together at most {MAX_NAMESPACE_BYTES})."
        )
    return None


def namespace_problem(name: str) -> str | None:
    """Why ``name`` is not a collection's ``database.collection``; None when it is."""
    parts = split(name)
    if parts is None:
        return f"Collection {name!r} is not named database.collection."
    return collection_problem(*parts)


# --------------------------------------------------------------------------- globs


def _tokens(glob: str) -> list[str]:
    """fnmatch's pieces: ``*``, ``?``, a ``[...]`` class, or one literal character."""
    tokens: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if char == "[":
            j = i + 1
            if j < len(glob) and glob[j] == "!":
                j += 1
            if j < len(glob) and glob[j] == "]":
                j += 1
            end = glob.find("]", j)
            if end != -1:
                tokens.append(glob[i : end + 1])
                i = end + 1
                continue
        tokens.append(char)
        i += 1
    return tokens


def _step(token: str, char: str) -> bool:
    if token in ("?", "*"):
        return True
    if token.startswith("[") and len(token) > 1:
        return fnmatch.fnmatchcase(char, token)
    return token == char


def reaches_into(glob: str, database: str) -> bool:
    """Whether ``glob`` (a flow's ``collection:`` glob) matches some collection of
    ``database``: some name starting with ``database.`` and going on."""
    tokens = _tokens(glob)
    states = {0}
    for char in namespace(database, ""):
        states = _closure(tokens, states)
        states = {
            i + (tokens[i] != "*") for i in states if i < len(tokens) and _step(tokens[i], char)
        }
        if not states:
            return False
    return any(i < len(tokens) for i in _closure(tokens, states))


def _closure(tokens: list[str], states: set[int]) -> set[int]:
    """``states`` and every state a ``*`` can be skipped to (it matches nothing)."""
    found = set(states)
    for start in states:
        i = start
        while i < len(tokens) and tokens[i] == "*":
            i += 1
            found.add(i)
    return found
