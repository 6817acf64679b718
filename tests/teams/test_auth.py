"""Through the whole Gatepass app: every unauthenticated or wrongly authenticated request to
/api/messages gets 401 and reaches no handler (nothing stored, nothing decided, nothing sent)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.lifecycle import Status
from core.storage.models import ChatAccount, Decision
from core.storage.request_views import load_view
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.fakes.teams import FakeTokenEndpoint
from tests.teams.harness import ALICE, BOB, TeamsHarness
from tests.teams_plumbing.test_auth import BROKEN_TOKENS, HEADERS


async def _pending(teams: TeamsHarness) -> str:
    draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")
    view = await requests.submit(
        teams.ctx, requester="alice@example.com", draft=draft, platform="slack"
    )
    return view.id


async def _assert_nothing_ran(
    teams: TeamsHarness, token_endpoint: FakeTokenEndpoint, request_id: str
) -> None:
    async with teams.ctx.store.reading() as session:
        assert (await session.execute(sa.select(ChatAccount))).first() is None
        assert (await session.execute(sa.select(Decision))).first() is None
        view = await load_view(session, teams.ctx.directory, request_id)
    assert view.status is Status.PENDING
    assert teams.connector.activities == []
    assert teams.connector.member_lookups == []
    assert token_endpoint.requests == []  # not even an outbound token was needed


def _activities(teams: TeamsHarness, request_id: str) -> dict[str, dict[str, Any]]:
    channel = teams.channel
    return {
        "message": channel.message("request", user=ALICE),
        "installation": channel.activity("installationUpdate", user=ALICE, action="add"),
        "approve": channel.card_action(
            verb="approval.approve", data={"request": request_id}, user=BOB
        ),
    }


@pytest.mark.parametrize("broken", BROKEN_TOKENS.values(), ids=BROKEN_TOKENS.keys())
async def test_broken_tokens_get_401_and_reach_no_handler(
    teams: TeamsHarness, token_endpoint: FakeTokenEndpoint, broken: dict[str, Any]
) -> None:
    request_id = await _pending(teams)
    for kind, activity in _activities(teams, request_id).items():
        status, _ = await teams.post(activity, token=teams.channel.token(**broken))
        assert status == 401, kind
    await _assert_nothing_ran(teams, token_endpoint, request_id)


@pytest.mark.parametrize("header", HEADERS.values(), ids=HEADERS.keys())
async def test_missing_or_malformed_authorization_gets_401(
    teams: TeamsHarness, token_endpoint: FakeTokenEndpoint, header: str | None
) -> None:
    request_id = await _pending(teams)
    for kind, activity in _activities(teams, request_id).items():
        headers = {"Authorization": header} if header is not None else {}
        status, _ = await teams.post(activity, token=None, headers=headers)
        assert status == 401, kind
    await _assert_nothing_ran(teams, token_endpoint, request_id)


async def test_a_valid_token_does_reach_the_handler(
    teams: TeamsHarness, token_endpoint: FakeTokenEndpoint
) -> None:
    """The control: the same activity with a good token is handled."""
    request_id = await _pending(teams)
    assert await teams.install(BOB) == 201
    status, body = await teams.post(_activities(teams, request_id)["approve"])
    assert (status, body["statusCode"]) == (200, 200)
    await teams.settle()  # the decision is recorded right after the answer
    async with teams.ctx.store.reading() as session:
        view = await load_view(session, teams.ctx.directory, request_id)
    assert view.status is Status.APPROVED
    assert [r.granted for r in token_endpoint.requests] == [True]
