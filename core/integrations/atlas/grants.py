"""Small helpers over the grants core hands to an integration, and the Atlas role a
collection grant becomes."""

from __future__ import annotations

from collections.abc import Sequence

from core.domain import namespaces
from core.domain.permissions import COLLECTION_ROLES
from core.domain.ports import AccessGrant, IntegrationError


def including(grant: AccessGrant, active: Sequence[AccessGrant]) -> list[AccessGrant]:
    """``active`` plus ``grant`` when core did not list it (the union must cover it)."""
    grants = list(active)
    if all(item.grant_id != grant.grant_id for item in grants):
        grants.append(grant)
    return grants


def excluding(grant: AccessGrant, remaining: Sequence[AccessGrant]) -> list[AccessGrant]:
    """``remaining`` without ``grant`` (a revoke must never keep what it removes)."""
    return [item for item in remaining if item.grant_id != grant.grant_id]


def collection_role(name: str, permission: str) -> dict[str, str]:
    """``{roleName, databaseName, collectionName}`` for ``permission`` on the collection named
    ``database.collection``: only ``read`` and ``readWrite`` exist on a collection, and the
    name must be one MongoDB allows (the form refuses the others; this refuses them again
    before anything reaches Atlas)."""
    if permission not in COLLECTION_ROLES:
        raise IntegrationError(
            f"{permission!r} cannot be granted on a collection (only {', '.join(COLLECTION_ROLES)})"
        )
    problem = namespaces.namespace_problem(name)
    parts = namespaces.split(name)
    if problem is not None or parts is None:
        raise IntegrationError(f"collection {name!r}: {problem}")
    database, collection = parts
    return {"roleName": permission, "databaseName": database, "collectionName": collection}
