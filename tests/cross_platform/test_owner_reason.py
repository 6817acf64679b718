"""The approvers' "why you" line on both platforms carries core's one wording: an owner tag
discovered in Atlas that matches nobody in the directory is named as such, not hidden behind
"no resource owner found"."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.cross_platform.atlas_platforms import atlas_platforms
from tests.cross_platform.conftest import BothPlatforms
from tests.cross_platform.test_slack_and_teams import (
    SLACK_BOB,
    SLACK_CAROL,
    ask_in_slack,
    install_everyone_in_teams,
)
from tests.fakes.atlas import CLUSTER_NAME, PROJECT_ID, FakeAtlas
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.slack.harness import shown
from tests.teams.harness import BOB, CAROL, card_text

WHY = (
    "integration owner of prod-atlas (owner tag owner=team-gone on cluster Cluster0 matches "
    "nobody in the directory; falling back to the integration owners)"
)


def owner_matching_nobody(atlas: FakeAtlas) -> None:
    atlas.clusters[PROJECT_ID][CLUSTER_NAME]["tags"] = [{"key": "owner", "value": "team-gone"}]
    project = atlas.projects[PROJECT_ID]
    project["tags"] = [t for t in project["tags"] if t["key"] != "owner"]


@pytest.fixture
async def platforms(
    slack: FakeSlack,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
    sqlite_url: str,
    encryption_key: str,
) -> AsyncIterator[BothPlatforms]:
    async with atlas_platforms(
        slack=slack,
        openid=openid,
        tokens=token_endpoint,
        connector=connector,
        database_url=sqlite_url,
        encryption_key=encryption_key,
        before_sync=owner_matching_nobody,
    ) as (both, _atlas):
        yield both


async def test_both_platforms_show_the_owner_tag_that_matches_nobody(
    platforms: BothPlatforms,
) -> None:
    both = platforms
    await install_everyone_in_teams(both)

    request_id = await ask_in_slack(both)
    await both.run_jobs()

    view = await both.slack.view_of(request_id)
    assert {(a.email, a.reason) for a in view.approvers} == {
        ("bob@example.com", WHY),
        ("carol@example.com", WHY),
    }
    for slack_user, member in ((SLACK_BOB, BOB), (SLACK_CAROL, CAROL)):
        assert WHY in " ".join(shown(both.slack.dm_with(slack_user, "quarterly report")).split())
        card = both.teams.current(both.teams.latest(member, "Access request"))
        assert WHY in " ".join(card_text(card).split())
