"""A bad collection gets a field error on both platforms, with nothing stored or granted: a
name MongoDB refuses, one no flow glob allows, a database Gatepass does not know, a permission
Atlas has no collection form of."""

from __future__ import annotations

import pytest

from bot.slack import ids
from bot.slack.form import block_id
from core.domain.request_form import FormInput
from tests.cross_platform.collections.steps import (
    SLACK_ALICE,
    alice_roles,
    name_collection,
    slack_state,
    teams_form,
    user_calls,
)
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import FakeAtlas
from tests.fakes.slack import view_submission
from tests.slack.harness import shown
from tests.teams.harness import ALICE, card_inputs, card_text

SYSTEM = (
    "Collections whose name starts with system. belong to MongoDB itself; they cannot be requested."
)
ROLES_ONLY = (
    "Only read or readWrite can be granted on a collection; choose one of the offered permissions."
)
UNKNOWN = (
    "A collection can be named only in a database Gatepass has discovered and an access flow "
    "offers: choose one of the offered resources."
)
BAD: dict[str, tuple[FormInput, str, str]] = {
    # (what is sent, the field the error is beside, the error)
    "bad name": (
        FormInput("prod-atlas", "database:analytics", "read", "1h", "x", "system.users"),
        "collection",
        SYSTEM,
    ),
    "dollar": (
        FormInput("prod-atlas", "database:analytics", "read", "1h", "x", "ev$ents"),
        "collection",
        "A collection name cannot contain $.",
    ),
    "no glob allows it": (
        FormInput("prod-atlas", "database:analytics", "read", "1h", "x", "payroll"),
        "collection",
        "No access flow lets you request collection analytics.payroll.",
    ),
    "unknown database": (
        FormInput("prod-atlas", "database:nope", "read", "1h", "x", "events"),
        "resource",
        UNKNOWN,
    ),
    "dbAdmin on a collection": (
        FormInput("prod-atlas", "database:analytics", "dbAdmin", "1h", "x", "events"),
        "permission",
        ROLES_ONLY,
    ),
}


@pytest.mark.parametrize(("filled", "field", "error"), BAD.values(), ids=BAD.keys())
async def test_a_bad_collection_is_refused_on_both_platforms(
    both: BothPlatforms, atlas: FakeAtlas, filled: FormInput, field: str, error: str
) -> None:
    slack, teams = both.slack, both.teams
    # Slack: the modal as it is once the database is chosen, then submitted with the bad input.
    view_id = await slack.open_request_modal(SLACK_ALICE)
    await slack.choose(SLACK_ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    values = slack_state(filled)
    reply = await slack.send(
        view_submission(
            callback_id=ids.REQUEST_SUBMIT,
            values=values,
            user_id=SLACK_ALICE,
            user_name=slack.user_name(SLACK_ALICE),
            view_id=view_id,
        )
    )
    await slack.settle()
    assert reply.status == 200
    answer = reply.json()
    assert answer["response_action"] == "errors", answer
    field_block = {
        "collection": block_id("collection", filled),
        "resource": block_id("resource", filled),
        "permission": block_id("permission", filled),
    }[field]
    assert answer["errors"] == {field_block: error}

    # Teams: the form comes back with the error beside the input.
    data = {
        "integration": filled.integration,
        "resource": filled.resource,
        "collection": filled.collection,
        "permission": filled.permission,
        "duration": filled.duration,
        "justification": filled.justification,
    }
    card = await teams.click(ALICE, "form.submit", data)
    assert error in card_text(card), card_text(card)
    assert "Request sent" not in card_text(card)

    await both.run_jobs()
    assert await slack.counts() == {
        "requests": 0,
        "decisions": 0,
        "chat_accounts": await slack.count("chat_accounts"),
        "audit_events": 0,
        "jobs": await slack.count("jobs"),
        "grants": 0,
    }
    assert user_calls(atlas) == [] and alice_roles(atlas) == []


async def test_both_forms_say_why_a_named_collection_cannot_be_requested(
    both: BothPlatforms,
) -> None:
    slack = both.slack
    view_id = await slack.open_request_modal(SLACK_ALICE)
    await slack.choose(SLACK_ALICE, view_id, ids.RESOURCE_SELECT, "database:analytics")
    await name_collection(slack, view_id, "system.users")
    view = slack.view(view_id)
    assert SYSTEM in shown(view)
    actions = {(b.get("element") or {}).get("action_id"): b for b in view["blocks"]}
    assert actions[ids.COLLECTION_INPUT]["element"]["initial_value"] == "system.users"
    assert ids.PERMISSION_SELECT not in actions  # nothing to choose for it until it is fixed

    card = await both.teams.click(
        ALICE, "form.refresh", teams_form(resource="database:analytics", collection="system.users")
    )
    assert SYSTEM in card_text(card)
    assert card_inputs(card)["collection"]["value"] == "system.users"
    assert "permission" not in card_inputs(card)
    assert await slack.request_ids() == []
