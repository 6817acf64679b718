"""The owners' escalated ask says why, on both platforms, and lets them decide."""

from __future__ import annotations

from core.domain.lifecycle import Status
from tests.cross_platform.conftest import BothPlatforms
from tests.slack.harness import buttons, shown
from tests.teams.harness import ALICE, BOB, CAROL, DAVE, card_text, card_verbs, submit_request

WHY = "integration owner of prod-atlas (escalated: nobody decided in 2 hours)"


async def test_the_escalation_is_named_on_slack_and_teams(both: BothPlatforms) -> None:
    for member in (ALICE, BOB, CAROL, DAVE):
        assert await both.teams.install(member) == 201
    request_id = await submit_request(both.teams, ALICE, resource="database:sales")  # Dave's
    await both.run_jobs()
    both.slack.clock.advance(hours=2)
    await both.run_jobs()
    for slack_user, member in (("U0BOB", BOB), ("U0CAROL", CAROL)):
        message = both.slack.dm_with(slack_user, "Escalated to you")
        assert request_id in shown(message) and WHY in shown(message)
        card = both.teams.current(both.teams.latest(member, "Escalated to you"))
        assert request_id in card_text(card) and WHY in card_text(card)
        assert card_verbs(card) == ["approval.approve", "approval.deny"]
    assert set(buttons(both.slack.dm_with("U0BOB", "Escalated to you"))) == {"approve", "deny"}
    await both.teams.click(CAROL, "approval.approve", {"request": request_id})
    await both.run_jobs()
    assert await both.slack.status(request_id) is Status.ACTIVE
