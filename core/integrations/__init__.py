"""Integrations: the adapters behind ``ports.Integration``, built from config + secret."""

from __future__ import annotations

import httpx

from core.config.schema import AtlasDatabaseIntegration, AtlasPortalIntegration
from core.config.secrets import SecretValue
from core.domain.memberships import MembershipLedger
from core.domain.ports import Clock, Integration
from core.integrations.atlas import (
    AtlasClient,
    AtlasDatabaseAccess,
    AtlasPortalAccess,
    RetryPolicy,
)
from core.integrations.atlas.client import LastCall


def build_integration(
    config: AtlasDatabaseIntegration | AtlasPortalIntegration,
    secret: dict[str, SecretValue],
    *,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    ledger: MembershipLedger | None = None,
) -> Integration:
    """The integration ``config`` describes, authenticating with ``secret``.

    ``secret`` holds ``public_key``/``private_key`` (API key, HTTP Digest) or
    ``client_id``/``client_secret`` (service account, OAuth2). ``transport`` and ``retry`` are
    seams for tests. ``ledger`` is where the Portal integration records the memberships it
    creates (without one its reconciler finds nothing to remove). The result owns an HTTP
    connection pool: ``await integration.aclose()`` when done with it.
    """
    client = AtlasClient.from_secret(
        atlas_url=config.atlas_url,
        secret=secret,
        integration=config.name,
        clock=clock,
        transport=transport,
        retry=retry,
        rate_limit=(config.rate_limit.burst, config.rate_limit.per_minute)
        if isinstance(config, AtlasDatabaseIntegration)
        else None,
    )
    if isinstance(config, AtlasDatabaseIntegration):
        return AtlasDatabaseAccess(config, client, clock=clock)
    return AtlasPortalAccess(config, client, clock=clock, ledger=ledger)


def last_call(integration: Integration) -> LastCall | None:
    """How ``integration``'s last call to Atlas went (None: none yet, or not an Atlas one)."""
    client = getattr(integration, "_client", None)
    return client.last_call if isinstance(client, AtlasClient) else None


__all__ = ["LastCall", "build_integration", "last_call"]
