"""/readyz follows the Bot Framework signing keys: 503 while the OpenID metadata answers 503,
200 again once it is back; /healthz stays 200."""

from __future__ import annotations

from tests.fakes.teams import FakeOpenIdServer
from tests.ops.test_readiness import get
from tests.teams.harness import TeamsHarness


async def test_readyz_follows_the_teams_signing_keys(
    teams: TeamsHarness, openid: FakeOpenIdServer
) -> None:
    status, body = await get(teams.base_url + "/readyz")
    assert status == 200, body
    assert body["checks"]["teams"]["status"] == "ready"

    openid.failing = True
    status, body = await get(teams.base_url + "/readyz")
    assert status == 503
    problem = body["checks"]["teams"]["problem"]
    assert problem.startswith("signing keys unavailable: cannot load http://127.0.0.1:")
    assert "503" in problem
    assert (await get(teams.base_url + "/healthz"))[0] == 200

    openid.failing = False
    status, body = await get(teams.base_url + "/readyz")
    assert status == 200, body
