"""``build_integration``: the right integration for each config kind and secret shape."""

from __future__ import annotations

import pytest

from core.config.secrets import SecretValue
from core.domain.ports import Integration, IntegrationError
from core.integrations import build_integration
from core.integrations.atlas import AtlasDatabaseAccess, AtlasPortalAccess
from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import FakeAtlas


async def test_each_kind_builds_its_integration(
    db_config, portal_config, atlas: FakeAtlas, clock: FakeClock
) -> None:
    database = build_integration(db_config(), atlas.api_key(), clock=clock)
    portal = build_integration(portal_config(), atlas.service_account(), clock=clock)

    assert isinstance(database, AtlasDatabaseAccess) and isinstance(database, Integration)
    assert isinstance(portal, AtlasPortalAccess) and isinstance(portal, Integration)
    assert database.name == "prod-atlas" and portal.name == "atlas-ui"
    await database.check()
    await portal.check()
    await database.aclose()
    await portal.aclose()


def test_a_secret_of_the_wrong_shape_is_refused(db_config, clock: FakeClock) -> None:
    with pytest.raises(IntegrationError, match="public_key and private_key"):
        build_integration(db_config(), {"token": SecretValue("x")}, clock=clock)
