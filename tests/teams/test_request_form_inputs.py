"""Every bad input an ``Action.Execute`` of the request form can carry (a stale choice, a
tampered value, an over-long justification) comes back on the card, in core's words, beside the
input it concerns, with what was typed kept; nothing is stored and nobody is asked."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from core.storage.models import AccessRequest
from tests.teams.harness import ALICE, BOB, TeamsHarness, card_inputs, card_text, form_data

TAMPERED = {
    "unknown integration": (
        {"integration": "evil-atlas"},
        "integration",
        "Choose one of the offered integrations.",
    ),
    "resource not offered": (
        {"resource": "database:billing"},
        "resource",
        "Choose one of the offered resources.",
    ),
    "tampered resource value": (
        {"resource": "[x](https://evil)"},
        "resource",
        "Choose one of the offered resources.",
    ),
    "permission not allowed": (
        {"permission": "dbAdmin"},
        "permission",
        "Choose one of the offered permissions.",
    ),
    "duration not offered": (
        {"duration": "2h"},
        "duration",
        "Choose one of the offered durations.",
    ),
    "duration not a duration": (
        {"duration": "forever"},
        "duration",
        "Choose one of the offered durations.",
    ),
    "justification too long": (
        {"justification": "x" * 2001},
        "justification",
        "The justification is 2001 characters long; at most 2000.",
    ),
    "not text at all": ({"permission": ["read"]}, "permission", "Choose a permission."),
}


def beside(card: dict[str, Any], input_id: str) -> str:
    """The text of what follows the input ``input_id`` on the card."""
    body = card["body"]
    at = next(i for i, e in enumerate(body) if e.get("id") == input_id)
    return card_text({"body": [body[at + 1]]}) if at + 1 < len(body) else ""


@pytest.mark.parametrize(("changes", "where", "message"), TAMPERED.values(), ids=TAMPERED.keys())
async def test_bad_input_comes_back_beside_its_input_and_nothing_is_stored(
    teams: TeamsHarness, changes: dict[str, Any], where: str, message: str
) -> None:
    assert await teams.install(ALICE) == 201
    card = await teams.click(ALICE, "form.submit", {**form_data(), **changes})
    assert beside(card, where) == message
    typed = changes.get("justification", "quarterly report")
    assert card_inputs(card)["justification"]["value"][:1999] == typed[:1999]  # kept (cut)
    async with teams.ctx.store.reading() as session:
        stored = await session.execute(sa.select(sa.func.count()).select_from(AccessRequest))
    assert stored.scalar_one() == 0
    await teams.run_jobs()
    assert teams.sent_to(BOB) == []
