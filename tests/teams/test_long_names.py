"""A 10,000-character display name is cut short once, in core: the Teams cards about that
person's decision still show its time and its reason, and stay well within a card's size."""

from __future__ import annotations

import json

import pytest

from core.domain.sentences import MAX_NAME
from tests.support.long_names import DECIDED_AT, LONG_NAME, directory_with_a_long_name
from tests.teams.harness import ALICE, BOB, CAROL, TeamsHarness, card_text, submit_request

MAX_CARD_BYTES = 28_000  # what Teams accepts in one message, attachments included


@pytest.fixture
def flow_changes() -> dict[str, object]:
    return {"directory": directory_with_a_long_name()}


async def test_the_decision_time_and_reason_stay_visible(teams: TeamsHarness) -> None:
    for member in (ALICE, BOB, CAROL):
        assert await teams.install(member) == 201
    request_id = await submit_request(teams, ALICE)
    await teams.run_jobs()
    denied = await teams.click(
        BOB, "approval.deny", {"request": request_id, "reason": "use the replica"}
    )
    await teams.run_jobs()

    cut = LONG_NAME[: MAX_NAME - 1] + "…"
    carol = teams.current(teams.latest(CAROL, "Access request"))
    alice = teams.current(teams.latest(ALICE, "Request denied"))
    for card in (denied, carol, alice):
        text = card_text(card)
        assert f"Denied by {cut} at {DECIDED_AT}" in text
        assert "Reason: use the replica" in text
        assert LONG_NAME[:MAX_NAME] not in text
        assert len(json.dumps(card).encode()) < MAX_CARD_BYTES
