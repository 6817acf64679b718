"""Small helpers over the grants core hands to an integration."""

from __future__ import annotations

from collections.abc import Sequence

from core.domain.ports import AccessGrant


def including(grant: AccessGrant, active: Sequence[AccessGrant]) -> list[AccessGrant]:
    """``active`` plus ``grant`` when core did not list it (the union must cover it)."""
    grants = list(active)
    if all(item.grant_id != grant.grant_id for item in grants):
        grants.append(grant)
    return grants


def excluding(grant: AccessGrant, remaining: Sequence[AccessGrant]) -> list[AccessGrant]:
    """``remaining`` without ``grant`` (a revoke must never keep what it removes)."""
    return [item for item in remaining if item.grant_id != grant.grant_id]
