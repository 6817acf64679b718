"""Fixtures for the Atlas integration tests: a fake Atlas on loopback, a settable clock, and
integrations pointed at the fake with tiny retry delays."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.config.schema import AtlasDatabaseIntegration, AtlasPortalIntegration
from core.config.secrets import SecretValue
from core.domain.ports import AccessGrant, ResourceRef
from core.integrations import build_integration
from core.integrations.atlas import AtlasDatabaseAccess, AtlasPortalAccess, RetryPolicy
from tests.fakes.atlas import CLUSTER_NAME, ORG_ID, PROJECT_ID, FakeAtlas


class FakeClock:
    """A clock tests move by hand (shared by the fake and the integration)."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class Sleeps:
    """A ``RetryPolicy.sleep`` that records the delays and does not wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def atlas(clock: FakeClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=4, base_delay=0.001, max_inline_delay=10.0, sleep=sleeps)


@pytest.fixture
def db_config(atlas: FakeAtlas) -> Callable[..., AtlasDatabaseIntegration]:
    def make(**overrides: Any) -> AtlasDatabaseIntegration:
        fields: dict[str, Any] = {
            "name": "prod-atlas",
            "type": "mongodb-atlas",
            "project_id": PROJECT_ID,
            "cluster_name": CLUSTER_NAME,
            "secret": "env:ATLAS_KEY",
            "atlas_url": atlas.url,
            "custom_access_details": "Connect from the office VPN.",
        }
        return AtlasDatabaseIntegration(**{**fields, **overrides})

    return make


@pytest.fixture
def portal_config(atlas: FakeAtlas) -> Callable[..., AtlasPortalIntegration]:
    def make(**overrides: Any) -> AtlasPortalIntegration:
        fields: dict[str, Any] = {
            "name": "atlas-ui",
            "type": "mongodb-atlas-portal",
            "organization_id": ORG_ID,
            "secret": "env:ATLAS_ORG_KEY",
            "atlas_url": atlas.url,
        }
        return AtlasPortalIntegration(**{**fields, **overrides})

    return make


@pytest.fixture
async def integrations(
    atlas: FakeAtlas, clock: FakeClock, retry: RetryPolicy
) -> AsyncIterator[Callable[..., Any]]:
    """``build(config, secret=None)``: an integration on the fake, closed after the test."""
    built: list[Any] = []

    def build(
        config: AtlasDatabaseIntegration | AtlasPortalIntegration,
        secret: dict[str, SecretValue] | None = None,
    ) -> Any:
        integration = build_integration(config, secret or atlas.api_key(), clock=clock, retry=retry)
        built.append(integration)
        return integration

    yield build
    for integration in built:
        await integration.aclose()


@pytest.fixture
def database(
    integrations: Callable[..., Any], db_config: Callable[..., AtlasDatabaseIntegration]
) -> AtlasDatabaseAccess:
    return integrations(db_config())


@pytest.fixture
def portal(
    integrations: Callable[..., Any], portal_config: Callable[..., AtlasPortalIntegration]
) -> AtlasPortalAccess:
    return integrations(portal_config())


_ids = itertools.count(1)


@pytest.fixture
def make_grant(clock: FakeClock) -> Callable[..., AccessGrant]:
    """``make_grant("database", "analytics", "read", hours=2, person=...)``."""

    def make(
        kind: str,
        name: str,
        permission: str,
        *,
        hours: float = 2,
        person: str = "alice@example.com",
        external_id: str | None = None,
    ) -> AccessGrant:
        return AccessGrant(
            grant_id=f"g{next(_ids)}",
            person=person,
            resource=ResourceRef(kind, name, external_id),
            permission=permission,
            ends_at=clock.now() + timedelta(hours=hours),
        )

    return make
