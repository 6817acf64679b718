"""Steps of the collection suites: naming a collection in the Slack modal, the Teams form's
data, a submitted modal's state, and waiting for a grant through the Atlas fake."""

from __future__ import annotations

from typing import Any

from bot.slack import ids
from bot.slack.form import block_id
from core.domain.lifecycle import Status
from core.domain.request_form import FormInput
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.atlas import PROJECT_ID, FakeAtlas
from tests.fakes.slack import block_actions
from tests.slack.harness import Harness as SlackHarness

SLACK_ALICE, SLACK_DAVE = "U0ALICE", "U0DAVE"


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


def teams_form(**fields: str) -> dict[str, str]:
    return {
        "integration": "prod-atlas",
        "permission": "readWrite",
        "duration": "1h",
        "justification": "replay the events",
        **fields,
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
