"""Collection-level roles asked for in Slack and in Teams, granted through the Atlas wire fake:
the requester names a collection of a discovered database, the database's owner approves, and
Atlas gets exactly ``{roleName, databaseName, collectionName}``, merged with the person's other
grants."""

from __future__ import annotations

from bot.slack import ids
from tests.cross_platform.collections.steps import (
    SLACK_ALICE,
    SLACK_DAVE,
    alice_roles,
    granted,
    name_collection,
    teams_form,
)
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import FakeAtlas
from tests.slack.harness import Harness as SlackHarness
from tests.slack.harness import buttons
from tests.teams.harness import ALICE, BOB, card_inputs, card_text


async def ask_in_slack(harness: SlackHarness, database: str, collection: str, role: str) -> str:
    view_id = await harness.open_request_modal(SLACK_ALICE)
    await harness.choose(SLACK_ALICE, view_id, ids.RESOURCE_SELECT, f"database:{database}")
    await name_collection(harness, view_id, collection)
    permissions = harness.view(view_id)["blocks"]
    offered = [
        o["value"]
        for b in permissions
        if (b.get("element") or {}).get("action_id") == ids.PERMISSION_SELECT
        for o in b["element"]["options"]
    ]
    assert offered == ["read", "readWrite"]  # only the collection roles
    await harness.choose(SLACK_ALICE, view_id, ids.PERMISSION_SELECT, role)
    await harness.choose(SLACK_ALICE, view_id, ids.DURATION_SELECT, "1h")
    before = set(await harness.request_ids())
    reply = await harness.submit(SLACK_ALICE, view_id, {ids.JUSTIFICATION_INPUT: "replay orders"})
    assert reply.status == 200 and reply.json() is None, reply.body
    (request_id,) = set(await harness.request_ids()) - before
    return request_id


async def test_a_collection_asked_in_slack_lands_in_atlas_as_that_collections_role(
    both: BothPlatforms, atlas: FakeAtlas
) -> None:
    slack = both.slack
    request_id = await ask_in_slack(slack, "sales", "orders", "read")
    view = await slack.view_of(request_id)
    assert view.resource == "collection sales.orders"
    # sales is tagged owner=sales-owners: Dave, its owner, approves
    assert [(a.email, a.reason) for a in view.approvers] == [
        ("dave@example.com", "owner of database sales via tag owner=sales-owners")
    ]
    await both.run_jobs()
    ask = slack.dm_with(SLACK_DAVE, "replay orders")
    assert buttons(ask)[ids.APPROVE] == request_id
    assert (await slack.click(SLACK_DAVE, ids.APPROVE, request_id, message=ask)).status == 200
    await granted(both, request_id)
    assert alice_roles(atlas) == [
        {"roleName": "read", "databaseName": "sales", "collectionName": "orders"}
    ]


async def test_a_collection_asked_in_teams_merges_with_the_persons_other_grants(
    both: BothPlatforms, atlas: FakeAtlas
) -> None:
    teams = both.teams
    refreshed = await teams.click(
        ALICE, "form.refresh", teams_form(resource="database:analytics", collection="events_2026")
    )
    assert card_inputs(refreshed)["collection"]["value"] == "events_2026"
    assert [c["value"] for c in card_inputs(refreshed)["permission"]["choices"]] == [
        "read",
        "readWrite",
    ]
    card = await teams.click(
        ALICE, "form.submit", teams_form(resource="database:analytics", collection="events_2026")
    )
    assert "Request sent" in card_text(card), card_text(card)
    (collection_id,) = await both.slack.request_ids()
    # analytics has no owner tag: its cluster's (owner=dba) routes it
    view = await both.slack.view_of(collection_id)
    assert {a.reason for a in view.approvers} == {"owner of cluster Cluster0 via tag owner=dba"}
    await both.run_jobs()
    await teams.click(BOB, "approval.approve", {"request": collection_id})
    await granted(both, collection_id)
    collection_role = {
        "roleName": "readWrite",
        "databaseName": "analytics",
        "collectionName": "events_2026",
    }
    assert alice_roles(atlas) == [collection_role]

    # A grant on the whole database for the same person: one Atlas user holds both roles.
    card = await teams.click(
        ALICE, "form.submit", teams_form(resource="database:analytics", permission="read")
    )
    assert "Request sent" in card_text(card), card_text(card)
    database_id = next(i for i in await both.slack.request_ids() if i != collection_id)
    await both.run_jobs()
    await teams.click(BOB, "approval.approve", {"request": database_id})
    await granted(both, database_id)
    assert alice_roles(atlas) == sorted(
        [collection_role, {"roleName": "read", "databaseName": "analytics"}], key=str
    )
