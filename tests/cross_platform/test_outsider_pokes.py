"""An outsider pokes someone else's request with every button, modal and command both edges
have, and learns nothing.

Dave is in the directory but is neither requester, approver nor integration owner of Alice's
request. For every Slack action id and view callback id (``bot/slack/ids.py``) and every Teams
verb (``bot/teams/actions.HANDLERS``), he sends Alice's request id — while it is pending, and
while it is active with its password waiting — and is answered only privately, is shown nothing
of the request, and changes nothing. The tables below must name every id and verb the code
has, so a new button without a case here fails.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.slack import actions as slack_actions
from bot.slack import ids
from bot.slack.blocks.modals import REASON_BLOCK
from bot.slack.form import DURATION, JUSTIFICATION
from bot.slack.replies import metadata
from bot.teams import actions as teams_actions
from bot.teams.cards import verbs
from bot.teams.endpoint import CARD_CONTENT_TYPE
from core.domain.lifecycle import Status
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.cross_platform.conftest import BothPlatforms
from tests.fakes.slack import block_actions, block_suggestion, event_callback, view_submission
from tests.slack.harness import shown
from tests.teams.harness import DAVE, conversation_of

SLACK_DAVE = "U0DAVE"
WHY = "Board numbers for ticket FIN-4242"
SECRETS = (WHY, "FIN-4242", "Alice", "alice@", "gp-alice", "mongodb+srv", "pw-gp-")
"""Nothing of these may reach Dave: justification, requester, username, connection, password."""
RESOURCE = "analytics"
REFUSAL_SECRETS = (RESOURCE, "prod-atlas")
"""Nor may a refusal name the resource or the integration (his own form may list them: they
are his to ask for)."""
UNKNOWN = "RZZZZZZZZZ"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"

REFUSED, OWN = "refused", "own"
"""What Dave must get: a private refusal, or only his own things (his form, his lists)."""

SLACK_BUTTONS = {
    ids.APPROVE: REFUSED,
    ids.DENY: REFUSED,
    ids.CANCEL_REQUEST: REFUSED,
    ids.REVEAL_PASSWORD: REFUSED,
    ids.EXTEND: REFUSED,
    ids.DONE: REFUSED,
    ids.REQUEST_AGAIN: REFUSED,
    ids.BREAK_GLASS_ACKNOWLEDGE: REFUSED,
    ids.BREAK_GLASS_FLAG: REFUSED,
    ids.REVOKE_NOW: REFUSED,
    ids.OPEN_REQUEST_MODAL: OWN,
    ids.CHANNEL_APPROVE: REFUSED,
    ids.CHANNEL_DENY: REFUSED,
}
SLACK_SELECTS = {  # the request modal's choices: Alice's id sent as the chosen value
    ids.INTEGRATION_SELECT: OWN,
    ids.RESOURCE_SELECT: OWN,
    ids.PERMISSION_SELECT: OWN,
    ids.DURATION_SELECT: OWN,
    ids.COLLECTION_INPUT: OWN,  # Enter in the collection input
}
SLACK_OPTIONS = {ids.RESOURCE_SELECT: OWN}  # the resource typeahead, Alice's id typed in
SLACK_VIEWS: dict[str, tuple[str, dict[str, Any]]] = {  # Alice's id in private_metadata
    ids.APPROVE_REASON: (REFUSED, {REASON_BLOCK: {ids.REASON_INPUT: {"value": "fine"}}}),
    ids.DENY_REASON: (REFUSED, {REASON_BLOCK: {ids.REASON_INPUT: {"value": "no"}}}),
    ids.REVOKE_REASON: (REFUSED, {REASON_BLOCK: {ids.REASON_INPUT: {"value": "leaving"}}}),
    ids.EXTEND_SUBMIT: (
        REFUSED,
        {
            DURATION: {ids.DURATION_SELECT: {"selected_option": {"value": "1h"}}},
            JUSTIFICATION: {ids.JUSTIFICATION_INPUT: {"value": "more"}},
        },
    ),
    ids.REQUEST_SUBMIT: (OWN, {}),
}
SLACK_LISTS = {"list": OWN, "pending": OWN, "home": OWN}  # commands and the Home tab
TEAMS_VERBS = {
    verbs.APPROVAL_REFRESH: REFUSED,
    verbs.APPROVE: REFUSED,
    verbs.DENY: REFUSED,
    verbs.CANCEL: REFUSED,
    verbs.REVEAL: REFUSED,
    verbs.HIDE: REFUSED,
    verbs.DONE: REFUSED,
    verbs.EXTEND: REFUSED,
    verbs.BREAK_GLASS_ACKNOWLEDGE: REFUSED,
    verbs.BREAK_GLASS_FLAG: REFUSED,
    verbs.REVOKE: REFUSED,
    verbs.FORM_REFRESH: OWN,
    verbs.FORM_SUBMIT: OWN,
    verbs.CHANNEL_REFRESH: REFUSED,
    verbs.CHANNEL_APPROVE: REFUSED,
    verbs.CHANNEL_DENY: REFUSED,
}
TEAMS_COMMANDS = {"list": OWN, "pending": OWN}


@dataclass(frozen=True)
class Poke:
    platform: str
    kind: str  # button | select | options | view | list | verb | command
    key: str
    expect: str

    def __str__(self) -> str:
        return f"{self.platform}-{self.kind}-{self.key}"


def all_pokes() -> list[Poke]:
    slack = [
        *(Poke("slack", "button", k, e) for k, e in SLACK_BUTTONS.items()),
        *(Poke("slack", "select", k, e) for k, e in SLACK_SELECTS.items()),
        *(Poke("slack", "options", k, e) for k, e in SLACK_OPTIONS.items()),
        *(Poke("slack", "view", k, e) for k, (e, _) in SLACK_VIEWS.items()),
        *(Poke("slack", "list", k, e) for k, e in SLACK_LISTS.items()),
    ]
    teams = [
        *(Poke("teams", "verb", k, e) for k, e in TEAMS_VERBS.items()),
        *(Poke("teams", "command", k, e) for k, e in TEAMS_COMMANDS.items()),
    ]
    return slack + teams


POKES = all_pokes()


def test_every_slack_id_and_teams_verb_is_poked() -> None:
    listened = set(ids.ACTION_IDS) - set(ids.RENDERED_ONLY)
    assert set(SLACK_BUTTONS) | set(SLACK_SELECTS) == listened
    assert set(SLACK_VIEWS) == set(ids.VIEW_CALLBACK_IDS) - set(ids.RENDERED_ONLY)
    assert set(TEAMS_VERBS) == set(teams_actions.HANDLERS)
    about_a_request = set(slack_actions.ACTIONS) | set(slack_actions.MODALS)
    refused = {k for k, e in SLACK_BUTTONS.items() if e == REFUSED}
    assert about_a_request <= refused | {k for k, (e, _) in SLACK_VIEWS.items() if e == REFUSED}


# --------------------------------------------------------------------------- the victim


async def alices_request(both: BothPlatforms, state: str) -> str:
    ctx = both.slack.ctx
    draft = Draft("prod-atlas", "database", RESOURCE, "read", timedelta(hours=1), WHY)
    view = await requests.submit(ctx, requester="alice@example.com", draft=draft, platform="slack")
    await both.run_jobs()
    if state == "active":
        await approvals.decide(
            ctx,
            approver="bob@example.com",
            request_id=view.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
        await both.run_jobs()
        current = await both.slack.view_of(view.id)
        assert current.status is Status.ACTIVE and current.password_waiting
    assert await both.teams.install(DAVE) == 201
    return view.id


async def world(both: BothPlatforms) -> dict[str, Any]:
    """Everything a poke could change (not who is who, nor the replay guard's deliveries)."""
    tables = ("requests", "request_approvers", "decisions", "grants", "jobs", "posted_messages")
    found: dict[str, Any] = {}
    async with both.slack.ctx.store.reading() as session:
        for table in (*tables, "integration_accounts", "audit_events"):
            rows = (await session.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))).all()
            found[table] = [tuple(row) for row in rows]
    found["atlas"] = (
        json.dumps(both.slack.atlas.accounts, default=sorted),
        len(both.slack.atlas.calls),
    )
    return found


# --------------------------------------------------------------------------- poking


@dataclass
class Answer:
    """What reached Dave, and whether anything reached anybody else."""

    private: list[Any]
    elsewhere: list[Any]
    refused_by_message: bool | None = None  # Teams: the invoke answered with a message
    answered_late: bool = False  # Teams: "working on it", then his own clicked card replaced


async def poke_slack(both: BothPlatforms, poke: Poke, request_id: str) -> Answer:
    harness = both.slack
    mark = harness.slack.mark()
    reply = await _send_slack(both, poke, request_id)
    assert reply.status == 200, reply.body
    await harness.settle()
    private: list[Any] = [reply.json()] if reply.body else []
    elsewhere: list[Any] = []
    for call in harness.slack.calls[mark:]:
        if call.method in ("auth.test", "users.info", "users.lookupByEmail", "conversations.open"):
            continue
        mine = {
            "chat.postEphemeral": call.get("user") == SLACK_DAVE,
            "chat.postMessage": call.get("channel")
            in (SLACK_DAVE, harness.slack.dm_channel(SLACK_DAVE)),
            "chat.update": call.get("channel") == harness.slack.dm_channel(SLACK_DAVE),
            "views.publish": call.get("user_id") == SLACK_DAVE,
        }.get(call.method, call.method in ("views.open", "views.update", "response_url"))
        if mine:
            private.append(call.args)
        else:
            elsewhere.append((call.method, call.args))
    return Answer(private, elsewhere)


async def _send_slack(both: BothPlatforms, poke: Poke, request_id: str) -> Any:
    harness, slack = both.slack, both.slack.slack
    trigger = slack.new_trigger_id(user_id=SLACK_DAVE)
    forged = {"id": "V0FORGED", "type": "modal", "callback_id": ids.REQUEST_SUBMIT}
    forged |= {"private_metadata": metadata(request=request_id), "state": {"values": {}}}
    if poke.kind == "button":
        return await harness.click(SLACK_DAVE, poke.key, request_id)
    if poke.kind == "select":
        option = {"text": {"type": "plain_text", "text": request_id}, "value": request_id}
        request = block_actions(
            action_id=poke.key, user_id=SLACK_DAVE, view=forged, selected_option=option,
            trigger_id=trigger,
        )  # fmt: skip
    elif poke.kind == "options":
        request = block_suggestion(
            action_id=poke.key, value=request_id, user_id=SLACK_DAVE,
            private_metadata=metadata(request=request_id),
        )  # fmt: skip
    elif poke.kind == "view":
        request = view_submission(
            callback_id=poke.key, values=SLACK_VIEWS[poke.key][1], user_id=SLACK_DAVE,
            private_metadata=metadata(request=request_id), trigger_id=trigger,
        )  # fmt: skip
    elif poke.key == "home":
        event = {"type": "app_home_opened", "user": SLACK_DAVE, "tab": "home"}
        request = event_callback(event)
    else:
        return await harness.command(SLACK_DAVE, f"{poke.key} {request_id}")
    return await harness.send(request)


async def poke_teams(both: BothPlatforms, poke: Poke, request_id: str) -> Answer:
    teams = both.teams
    before = (len(teams.connector.activities), len(teams.connector.updates))
    private: list[Any] = []
    refused_by_message = None
    clicked = f"card-{uuid.uuid4().hex[:12]}"  # a late answer replaces it, for Dave alone
    if poke.kind == "verb":
        data = {verbs.REQUEST: request_id, verbs.REASON: "fine", verbs.CARD: verbs.WARNING_CARD}
        data |= {verbs.DURATION: "1h", verbs.JUSTIFICATION: "more"}
        body = await teams.invoke(DAVE, poke.key, data, card_id=clicked)
        assert body["type"] in (CARD_CONTENT_TYPE, MESSAGE_RESPONSE), body
        private.append(body)
        refused_by_message = body["type"] == MESSAGE_RESPONSE
    else:
        assert await teams.say(DAVE, f"{poke.key} {request_id}") == 201
    sent = teams.connector.activities[before[0] :]
    private += [a.activity for a in sent if a.conversation_id == conversation_of(DAVE)]
    elsewhere: list[Any] = [a.activity for a in sent if a.conversation_id != conversation_of(DAVE)]
    updates = teams.connector.updates[before[1] :]
    elsewhere += [u.activity for u in updates if u.activity_id != clicked]
    late = any(u.activity_id == clicked for u in updates)
    return Answer(private, elsewhere, refused_by_message, answered_late=late)


async def poke(both: BothPlatforms, poke: Poke, request_id: str) -> Answer:
    if poke.platform == "slack":
        return await poke_slack(both, poke, request_id)
    return await poke_teams(both, poke, request_id)


# --------------------------------------------------------------------------- reading answers


def carried(node: Any) -> Iterator[str]:
    """What buttons and cards carry rather than show: values, action data, metadata."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("value", "data", "private_metadata", "initial_value", "url"):
                yield json.dumps(value) if not isinstance(value, str) else value
            yield from carried(value)
    elif isinstance(node, list):
        for item in node:
            yield from carried(item)


def said(answer: Answer, request_id: str) -> str:
    """Every text Dave was shown, with the request id he sent made neutral."""
    texts = [shown(item) if not isinstance(item, str) else item for item in answer.private]
    return "\n".join(texts).replace(request_id, "<id>")


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("state", ["pending", "active"])
@pytest.mark.parametrize("case", POKES, ids=str)
async def test_an_outsider_is_refused_privately_and_learns_nothing(
    both: BothPlatforms, case: Poke, state: str
) -> None:
    request_id = await alices_request(both, state)
    before = await world(both)
    answer = await poke(both, case, request_id)
    assert answer.elsewhere == [], answer.elsewhere  # nothing reached anybody else
    everything = json.dumps(answer.private, default=str)
    for secret in SECRETS:
        assert secret not in everything, (secret, everything)
    assert all(request_id not in value for value in carried(answer.private)), everything
    if case.expect == REFUSED:
        assert answer.private, "no answer at all"
        for detail in REFUSAL_SECRETS:
            assert detail not in everything, (detail, everything)
        # Teams: no card of it, except that an answer too late for the invoke replaces the card
        # Dave clicked in his personal chat, which only he sees
        assert answer.refused_by_message in (None, True) or answer.answered_late, everything
    assert await world(both) == before


@pytest.mark.parametrize(
    "case",
    POKES,
    ids=str,
)
async def test_an_unknown_id_gets_the_same_answer_as_someone_elses(
    both: BothPlatforms, case: Poke
) -> None:
    request_id = await alices_request(both, "pending")
    someone_elses = said(await poke(both, case, request_id), request_id)
    unknown = said(await poke(both, case, UNKNOWN), UNKNOWN)
    assert re.sub(r"\s+", " ", someone_elses) == re.sub(r"\s+", " ", unknown)
