"""``approvers: automatic`` end to end, asked in Slack and in Teams: the request is granted in
the Atlas fake with nobody asked to approve; the requester gets the access message; the audit
says it was approved automatically by its flow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.slack import ids
from core.storage.models import AuditEvent
from core.use_cases.requests import SYSTEM
from tests.cross_platform.atlas_platforms import atlas_platforms, until_active
from tests.cross_platform.conftest import BothPlatforms
from tests.cross_platform.test_slack_and_teams import (
    SLACK_ALICE,
    SLACK_BOB,
    SLACK_CAROL,
    ask_in_slack,
    install_everyone_in_teams,
)
from tests.fakes.atlas import PROJECT_ID, FakeAtlas
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.slack.harness import buttons, shown
from tests.teams.harness import ALICE, BOB, CAROL, card_text, card_verbs, submit_request


@pytest.fixture
async def automatic(
    slack: FakeSlack,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
    sqlite_url: str,
    encryption_key: str,
) -> AsyncIterator[tuple[BothPlatforms, FakeAtlas]]:
    async with atlas_platforms(
        slack=slack,
        openid=openid,
        tokens=token_endpoint,
        connector=connector,
        database_url=sqlite_url,
        encryption_key=encryption_key,
        flow={"approvers": "automatic", "reminders": []},
    ) as found:
        yield found


def granted_in_atlas(atlas: FakeAtlas) -> list[list[tuple[str, str]]]:
    """The roles of every database user in the fake's project."""
    return [
        [(r["roleName"], r["databaseName"]) for r in user["roles"]]
        for user in atlas.users[PROJECT_ID].values()
    ]


async def audit_of(both: BothPlatforms, request_id: str) -> list[AuditEvent]:
    async with both.slack.ctx.store.reading() as session:
        found = await session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.request_id == request_id)  # type: ignore[arg-type]
            .order_by(AuditEvent.seq)  # type: ignore[arg-type]
        )
        return list(found.scalars())


async def assert_approved_automatically(both: BothPlatforms, request_id: str) -> None:
    [approved] = [e for e in await audit_of(both, request_id) if e.action == "request.approved"]
    assert approved.actor == SYSTEM
    assert approved.detail == {
        "automatic": True,
        "flow": "analytics-read",
        "why": "approved automatically by its access flow",
    }
    view = await both.slack.view_of(request_id)
    assert view.approvers == () or list(view.approvers) == []
    assert view.decided_by is None and await both.slack.count("decisions") == 0


def no_approval_asked(both: BothPlatforms) -> None:
    """Nobody but the requester got anything: no approval DM, no approval card."""
    for user in (SLACK_BOB, SLACK_CAROL):
        assert both.slack.dm(user) == [], [shown(m) for m in both.slack.dm(user)]
    for member in (BOB, CAROL):
        assert not [c for c in both.teams.cards_to(member) if "Access request" in card_text(c)]


async def test_automatic_flow_asked_in_slack_is_granted_without_an_approver(
    automatic: tuple[BothPlatforms, FakeAtlas],
) -> None:
    both, atlas = automatic
    await install_everyone_in_teams(both)

    request_id = await ask_in_slack(both)
    await until_active(both, request_id)

    assert granted_in_atlas(atlas) == [[("read", "analytics")]]
    ready = both.slack.dm_with(SLACK_ALICE, "Your access is ready")
    assert buttons(ready) == {ids.REVEAL_PASSWORD: request_id, ids.DONE: request_id}
    assert "mongodb+srv://" in shown(ready)
    no_approval_asked(both)
    await assert_approved_automatically(both, request_id)


async def test_automatic_flow_asked_in_teams_is_granted_without_an_approver(
    automatic: tuple[BothPlatforms, FakeAtlas],
) -> None:
    both, atlas = automatic
    await install_everyone_in_teams(both)

    request_id = await submit_request(both.teams, ALICE)
    await until_active(both, request_id)

    assert granted_in_atlas(atlas) == [[("read", "analytics")]]
    ready = both.teams.current(both.teams.latest(ALICE, "Your access is ready"))
    assert "mongodb+srv://" in card_text(ready)
    assert card_verbs(ready) == ["password.reveal", "access.done"]
    no_approval_asked(both)
    assert both.slack.dm(SLACK_ALICE) == []  # told where she asked, in Teams only
    await assert_approved_automatically(both, request_id)
