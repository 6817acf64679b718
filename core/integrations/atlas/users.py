"""The shape of a Gatepass database user: its name, roles, labels, password and expiry.

Pure functions: ``database.py`` decides when to call Atlas, this module decides what to send.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from core.domain import permissions
from core.domain.ports import AccessGrant, IntegrationError, ManagedAccess
from core.integrations.atlas import grants

AUTH_DATABASE: Final = "admin"
MANAGED_BY: Final = {"key": "managed-by", "value": "gatepass"}
INTEGRATION_LABEL: Final = "gatepass-integration"
PERSON_LABEL: Final = "gatepass-person"

# Atlas keeps a temporary user at most one week; stay clear of clock skew between us and it.
MAX_LIFETIME: Final = timedelta(days=7)
LIFETIME_MARGIN: Final = timedelta(hours=1)
# deleteAfterDate is the grant's end plus this: Atlas takes whole seconds and runs on its own
# clock, so a date at the very end could remove the user before the approved end when our
# clocks differ; a minute keeps the approved window whole, lets Gatepass's own revocation
# (which keeps the other grants' roles, tells the requester and writes the audit) run first,
# and still ends the access within a minute if Gatepass is down.
GRACE: Final = timedelta(minutes=1)
# A disabled user (``user_cleanup_days``) keeps a deleteAfterDate at its cleanup time, or as far
# towards it as Atlas allows; the date is moved once it falls this far short (each change is an
# Atlas deployment, so at most about once a day per user).
HOLD_STEP: Final = timedelta(days=1)

# A revoked-but-kept user (``user_cleanup_days``) must grant nothing, yet Atlas requires at
# least one role. ``read`` on a database that Gatepass reserves and nobody creates grants no
# data; together with a fresh password nobody knows, the user cannot log in or read anything.
DISABLED_DATABASE: Final = "gatepass-disabled"
DISABLED_ROLES: Final = ({"roleName": "read", "databaseName": DISABLED_DATABASE},)

_SLUG = re.compile(r"[^a-z0-9]+")


def username_for(person: str, *, integration: str) -> str:
    """``gp-alice-7f3a91c2``: the sanitized local part and a hash of integration + email.

    The integration is hashed in so two integrations on one project never share a user.
    """
    email = person.strip().lower()
    slug = _SLUG.sub("-", email.split("@", 1)[0]).strip("-")[:24].strip("-") or "user"
    digest = hashlib.sha256(f"{integration}\n{email}".encode()).hexdigest()[:8]
    return f"gp-{slug}-{digest}"


def new_password() -> str:
    """A strong random password (192 bits, URL-safe so it drops into connection strings)."""
    return secrets.token_urlsafe(24)


def role_for(grant: AccessGrant) -> dict[str, str]:
    """The Atlas role document one grant asks for."""
    kind, name, role = grant.resource.type, grant.resource.name, grant.permission
    if not permissions.permission_applies(permissions.ATLAS_DATABASE, kind, role):
        raise IntegrationError(f"{role!r} cannot be granted on a {kind} (grant {grant.grant_id})")
    if kind == "cluster":
        return {"roleName": role, "databaseName": AUTH_DATABASE}
    if kind == "database":
        return {"roleName": role, "databaseName": name}
    return grants.collection_role(name, role)


def roles_for(grants: Iterable[AccessGrant]) -> list[dict[str, str]]:
    """The union of the grants' roles, without duplicates, in a stable order."""
    unique = {_role_key(role): role for role in map(role_for, grants)}
    return [unique[key] for key in sorted(unique)]


def same_roles(left: Iterable[Mapping[str, Any]], right: Iterable[Mapping[str, Any]]) -> bool:
    return {_role_key(r) for r in left} == {_role_key(r) for r in right}


def _role_key(role: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(role.get("databaseName", "")),
        str(role.get("collectionName", "")),
        str(role["roleName"]),
    )


def latest_allowed(now: datetime) -> datetime:
    return now + MAX_LIFETIME - LIFETIME_MARGIN


def delete_after_for(grants: Sequence[AccessGrant], *, now: datetime) -> datetime:
    """Latest end of the grants plus a grace period, capped below Atlas's one-week limit."""
    latest = max(grant.ends_at for grant in grants) + GRACE
    return max(min(latest, latest_allowed(now)), now + GRACE).replace(microsecond=0)


def disabled_until(cleanup_at: datetime, *, now: datetime) -> datetime:
    """A disabled user's deleteAfterDate: its cleanup time, capped below Atlas's limit."""
    return min(cleanup_at, latest_allowed(now)).replace(microsecond=0)


def hold_due(current: datetime | None, cleanup_at: datetime, *, now: datetime) -> datetime | None:
    """The new deleteAfterDate of a disabled user whose current one (``current``) has fallen
    ``HOLD_STEP`` or more short of where it may be, or that can reach the cleanup time at last;
    None while it is close enough (or there already)."""
    wanted = disabled_until(cleanup_at, now=now)
    if current is None:
        return wanted
    final = wanted == cleanup_at.replace(microsecond=0)
    if wanted <= current or (wanted - current < HOLD_STEP and not final):
        return None
    return wanted


def atlas_time(value: datetime) -> str:
    """Atlas's timestamp form: whole seconds, UTC, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_atlas_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def labels_for(person: str, *, integration: str) -> list[dict[str, str]]:
    return [
        dict(MANAGED_BY),
        {"key": INTEGRATION_LABEL, "value": integration},
        {"key": PERSON_LABEL, "value": person.strip().lower()},
    ]


def label(user: Mapping[str, Any], key: str) -> str | None:
    for item in user.get("labels") or []:
        if item.get("key") == key:
            return str(item.get("value"))
    return None


def managed_by(user: Mapping[str, Any], *, integration: str) -> bool:
    """True when Gatepass created ``user`` for this integration."""
    return (
        label(user, MANAGED_BY["key"]) == MANAGED_BY["value"]
        and label(user, INTEGRATION_LABEL) == integration
    )


def user_document(
    *,
    username: str,
    group_id: str,
    cluster: str,
    roles: Sequence[Mapping[str, str]],
    delete_after: datetime,
    labels: list[dict[str, str]],
    password: str | None = None,
) -> dict[str, Any]:
    """The full body for POST and PATCH (Atlas's schema requires the identity fields)."""
    body: dict[str, Any] = {
        "username": username,
        "databaseName": AUTH_DATABASE,
        "groupId": group_id,
        "roles": [dict(role) for role in roles],
        "scopes": [{"name": cluster, "type": "CLUSTER"}],
        "labels": labels,
        "deleteAfterDate": atlas_time(delete_after),
    }
    if password is not None:
        body["password"] = password
    return body


def managed_access(user: Mapping[str, Any], *, integration: str) -> ManagedAccess:
    """A Gatepass user as the reconciler sees it: whose it is, and what it holds."""
    person = label(user, PERSON_LABEL)
    if person and username_for(person, integration=integration) != user["username"]:
        person = None  # the label was edited: it no longer names this user's owner
    roles = user.get("roles") or []
    if same_roles(roles, DISABLED_ROLES):
        detail = "disabled, awaiting cleanup"
    else:
        detail = "roles: " + ", ".join(_role_text(role) for role in roles)
    return ManagedAccess(person=person, username=str(user["username"]), detail=detail)


def _role_text(role: Mapping[str, Any]) -> str:
    where = str(role.get("databaseName", ""))
    if role.get("collectionName"):
        where += f".{role['collectionName']}"
    return f"{role.get('roleName')}@{where}"
