"""Collection-level roles asked for in Slack and in Teams, granted through the Atlas wire fake:
the requester names a collection of a discovered database, the database's owner approves, and
Atlas gets exactly ``{roleName, databaseName, collectionName}``, merged with the person's other
grants. A bad collection gets a field error on both platforms, with nothing stored or granted."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.app import Gatepass, build
from bot.slack import ids
from bot.slack.form import block_id
from bot.slack.install import install as install_slack
from bot.teams.install import install as install_teams
from core.domain.lifecycle import Status
from core.domain.request_form import FormInput
from core.storage import resources
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, PUBLIC_KEY, FakeAtlas
from tests.fakes.slack import FakeSlack, block_actions, view_submission
from tests.fakes.teams import FakeBotConnector, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.slack.harness import SIGNING_SECRET, buttons, shown
from tests.slack.harness import Harness as SlackHarness
from tests.support.clock import ManualClock
from tests.support.domain import BASE_CONFIG, RESOURCES
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import (
    ALICE,
    BOB,
    TeamsHarness,
    card_inputs,
    card_text,
    serve_without_worker_loop,
    teams_settings,
)

SLACK_ALICE, SLACK_DAVE = "U0ALICE", "U0DAVE"
COLLECTION_FLOW: dict[str, Any] = {
    "name": "collections",
    "requestors": [{"attribute": "group", "value": "data-eng"}],
    "integration": "prod-atlas",
    "resources": ["collection:analytics.events*", "collection:sales.*", "database:analytics"],
    "permissions": ["read", "readWrite", "dbAdmin"],
    "durations": ["1h", "2h"],
    "approvers": "owners",
    "require_justification": True,
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


@pytest.fixture
async def both(
    slack: FakeSlack,
    sqlite_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    token_endpoint: FakeTokenEndpoint,
    connector: FakeBotConnector,
    atlas: FakeAtlas,
    clock: ManualClock,
) -> AsyncIterator[BothPlatforms]:
    """Slack and Teams on one app whose ``prod-atlas`` is the real integration, over HTTP."""
    integration = {
        **BASE_CONFIG["integrations"][0],
        "atlas_url": atlas.url,
        "secret": {"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
    }
    settings = teams_settings(
        database_url=sqlite_url,
        encryption_key=encryption_key,
        openid=openid,
        tokens=token_endpoint,
        slack={
            "bot_token": "env:SLACK_BOT_TOKEN",
            "signing_secret": "env:SLACK_SIGNING_SECRET",
            "api_url": slack.api_url,
        },
        environ={
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ATLAS_PUBLIC": PUBLIC_KEY,
            "ATLAS_PRIVATE": PRIVATE_KEY,
        },
        integrations=[integration],
        access_flows=[*copy.deepcopy(BASE_CONFIG["access_flows"]), COLLECTION_FLOW],
    )
    gatepass: Gatepass = await build(
        settings,
        clock=clock,
        platforms=[install_slack, install_teams],
        run_worker=True,
        start_worker_loop=False,
        migrate=False,
        readiness_ttl=0.0,
    )
    async with gatepass.ctx.store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=clock.now())
    runner, base_url = await serve_without_worker_loop(gatepass)
    assert gatepass.worker is not None
    unused = MemoryIntegration("unused")
    slack_side = SlackHarness(
        gatepass=gatepass,
        slack=slack,
        runner=runner,
        session=aiohttp.ClientSession(),
        url=base_url + "/slack/events",
        clock=clock,
        worker=gatepass.worker,
        atlas=unused,
    )
    channel = FakeTeamsChannel(openid=openid, connector=connector)
    yield BothPlatforms(
        slack_side, TeamsHarness(gatepass, clock, unused, connector, channel, base_url)
    )
    await slack_side.close()
    await gatepass.close()


def alice_roles(atlas: FakeAtlas) -> list[dict[str, str]]:
    users = [u for name, u in atlas.users[PROJECT_ID].items() if name.startswith("gp-alice-")]
    assert len(users) <= 1
    return sorted(users[0]["roles"], key=str) if users else []


def user_calls(atlas: FakeAtlas) -> list[str]:
    return [f"{r.method} {r.path}" for r in atlas.requests if "/databaseUsers" in r.path]


async def granted(both: BothPlatforms, request_id: str) -> None:
    """Run the grant, moving time past Atlas's PENDING polls, until the access is active."""
    for _ in range(8):
        await both.run_jobs()
        if await both.slack.status(request_id) is Status.ACTIVE:
            return
        both.slack.clock.advance(seconds=2)
    raise AssertionError(f"{request_id} is {await both.slack.status(request_id)}")


# --------------------------------------------------------------------------- Slack


async def name_collection(harness: SlackHarness, view_id: str, collection: str) -> None:
    """Type ``collection`` in the modal's collection input and press Enter."""
    action_id = ids.COLLECTION_INPUT
    view = {
        **harness.view(view_id),
        "state": {"values": harness.state(view_id, {action_id: collection})},
    }
    mark = harness.slack.mark()
    reply = await harness.send(
        block_actions(
            action_id=action_id,
            value=collection,
            user_id=SLACK_ALICE,
            user_name=harness.user_name(SLACK_ALICE),
            block_id=harness.block_of(view_id, action_id),
            view=view,
            trigger_id=harness.slack.new_trigger_id(user_id=SLACK_ALICE, view_id=view_id),
        )
    )
    assert reply.status == 200
    await harness.slack.wait_for("views.update", lambda c: c["view_id"] == view_id, since=mark)
    await harness.settle()


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


# --------------------------------------------------------------------------- Teams


def teams_form(**fields: str) -> dict[str, str]:
    return {
        "integration": "prod-atlas",
        "permission": "readWrite",
        "duration": "1h",
        "justification": "replay the events",
        **fields,
    }


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


# --------------------------------------------------------------------------- bad collections

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


def slack_state(filled: FormInput) -> dict[str, Any]:
    """A submitted modal's ``state.values`` holding ``filled`` (as its blocks would)."""

    def selected(value: str) -> dict[str, Any]:
        option = {"text": {"type": "plain_text", "text": value}, "value": value}
        return {"type": "static_select", "selected_option": option}

    so_far = FormInput()
    values: dict[str, Any] = {}
    for field, action_id in (
        ("integration", ids.INTEGRATION_SELECT),
        ("resource", ids.RESOURCE_SELECT),
        ("permission", ids.PERMISSION_SELECT),
        ("duration", ids.DURATION_SELECT),
    ):
        values[block_id(field, so_far)] = {action_id: selected(getattr(filled, field))}
        so_far = FormInput(**{**so_far.__dict__, field: getattr(filled, field)})
    typed = {"type": "plain_text_input", "value": filled.collection}
    values[block_id("collection", so_far)] = {ids.COLLECTION_INPUT: typed}
    justification = {"type": "plain_text_input", "value": filled.justification}
    values["justification"] = {ids.JUSTIFICATION_INPUT: justification}
    return values


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
