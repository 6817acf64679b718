"""Every bad input the request modal can be sent (a stale pick, a tampered option value, an
over-long justification) comes back as an error on the modal, in core's words, beside the input
it concerns; nothing is stored and nobody is asked."""

from __future__ import annotations

import pytest

from bot.slack import ids
from tests.slack.harness import Harness

ALICE = "U0ALICE"

TAMPERED = {
    "unknown integration": (
        {ids.INTEGRATION_SELECT: "evil-atlas"},
        ids.INTEGRATION_SELECT,
        "Choose one of the offered integrations.",
    ),
    "resource not offered": (
        {ids.RESOURCE_SELECT: "database:billing"},
        ids.RESOURCE_SELECT,
        "Choose one of the offered resources.",
    ),
    "tampered resource value": (
        {ids.RESOURCE_SELECT: "<!channel>"},
        ids.RESOURCE_SELECT,
        "Choose one of the offered resources.",
    ),
    "permission not allowed": (
        {ids.PERMISSION_SELECT: "dbAdmin"},
        ids.PERMISSION_SELECT,
        "Choose one of the offered permissions.",
    ),
    "duration not offered": (
        {ids.DURATION_SELECT: "2h"},
        ids.DURATION_SELECT,
        "Choose one of the offered durations.",
    ),
    "duration too long": (
        {ids.DURATION_SELECT: "9h"},
        ids.DURATION_SELECT,
        "The longest you may request is 8 hours.",
    ),
    "justification too long": (
        {ids.JUSTIFICATION_INPUT: "x" * 2001},
        ids.JUSTIFICATION_INPUT,
        "The justification is 2001 characters long; at most 2000.",
    ),
}


@pytest.mark.parametrize(("picks", "where", "message"), TAMPERED.values(), ids=TAMPERED.keys())
async def test_bad_input_is_an_error_on_the_modal_and_nothing_is_stored(
    harness: Harness, picks: dict[str, str], where: str, message: str
) -> None:
    view_id = await harness.open_request_modal(ALICE)
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    await harness.choose(ALICE, view_id, ids.PERMISSION_SELECT, "read")
    await harness.choose(ALICE, view_id, ids.DURATION_SELECT, "1h")
    before = await harness.counts()
    reply = await harness.submit(
        ALICE, view_id, {ids.JUSTIFICATION_INPUT: "quarterly report", **picks}
    )
    assert reply.json() == {
        "response_action": "errors",
        "errors": {harness.block_of(view_id, where): message},
    }
    assert await harness.counts() == before
    assert await harness.run_jobs() == 0


async def test_a_submission_without_choices_points_at_the_first_one_missing(
    harness: Harness,
) -> None:
    view_id = await harness.open_request_modal(ALICE)
    reply = await harness.submit(ALICE, view_id, {ids.JUSTIFICATION_INPUT: "why"})
    assert reply.json() == {
        "response_action": "errors",
        "errors": {harness.block_of(view_id, ids.RESOURCE_SELECT): "Choose a resource."},
    }
    await harness.choose(ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    reply = await harness.submit(ALICE, view_id, {ids.JUSTIFICATION_INPUT: "why"})
    assert reply.json()["errors"] == {
        harness.block_of(view_id, ids.PERMISSION_SELECT): "Choose a permission."
    }
    assert await harness.request_ids() == []
