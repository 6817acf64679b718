"""The whole Gatepass app with its Teams edge, served on 127.0.0.1 against the Bot Framework
fakes: activities are POSTed over HTTP with tokens the fake OpenID server mints (so the real
JWT validation runs), replies and proactive cards land on the fake connector, and time moves
only when a test moves the ManualClock and runs the due jobs."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.app import Gatepass, build
from bot.platform import Installer
from bot.teams.endpoint import CARD_CONTENT_TYPE
from bot.teams.late import LateAnswers, working_card
from core.config.schema import parse_config
from core.config.settings import Settings, resolve_settings
from core.storage import resources
from tests.fakes.teams import (
    APP_ID,
    APP_PASSWORD,
    TENANT_ID,
    FakeBotConnector,
    FakeMember,
    FakeOpenIdServer,
    FakeTokenEndpoint,
    RecordedActivity,
)
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.support.clock import ManualClock
from tests.support.domain import RESOURCES, config_with
from tests.support.memory_integration import MemoryIntegration


def _member(name: str, email: str, number: int) -> FakeMember:
    return FakeMember(
        id=f"29:1{name.split(maxsplit=1)[0].lower()}",
        name=name,
        aad_object_id=f"00000000-0000-4000-8000-{number:012d}",
        email=email,
    )


ALICE = _member("Alice Doe", "alice@example.com", 1)  # data-eng: requests
BOB = _member("Bob Ray", "bob@example.com", 2)  # dba: approves Cluster0's databases
CAROL = _member("Carol Lin", "carol@example.com", 3)  # dba, platform
DAVE = _member("Dave Kim", "Dave@Example.com", 4)  # data-eng, sales-owners
ERIN = FakeMember(  # platform; the connector gives only her UPN
    id="29:1erin",
    name="Erin Fox",
    aad_object_id="00000000-0000-4000-8000-000000000005",
    email="",
    user_principal_name="erin@example.com",
)
MALLORY = _member("Mallory Moe", "mallory@example.com", 6)  # not in the directory
MEMBERS = (ALICE, BOB, CAROL, DAVE, ERIN, MALLORY)
PASSWORD_MARK = "pw-gp-"  # every password MemoryIntegration hands out starts with this
IN_TIME_UNDER_TEST = 10.0
"""Seconds a card action has before "working on it", in the tests that are not about that:
on a loaded CI machine an action can take longer than the half second it has in production."""


def teams_settings(
    *,
    database_url: str,
    encryption_key: str,
    openid: FakeOpenIdServer,
    tokens: FakeTokenEndpoint,
    slack: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    **changes: Any,
) -> Settings:
    data = config_with(**changes)
    data["database_url"] = database_url
    data["encryption_key"] = "env:GATEPASS_KEY"
    data["server"] = {"host": "127.0.0.1", "port": 3978}
    data["teams"] = {
        "app_id": "env:TEAMS_APP_ID",
        "app_password": "env:TEAMS_APP_PASSWORD",
        "tenant_id": "env:TEAMS_TENANT_ID",
        "token_url": tokens.token_url(),
        "openid_metadata_url": openid.metadata_url,
    }
    if slack is not None:
        data["slack"] = dict(slack)
    env = {
        "GATEPASS_KEY": encryption_key,
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_APP_PASSWORD": APP_PASSWORD,
        "TEAMS_TENANT_ID": TENANT_ID,
        "ATLAS_KEYS": json.dumps({"public_key": "abcdefgh", "private_key": "secret"}),
        **(environ or {}),
    }
    return resolve_settings(parse_config(data), config_path="test", environ=env)


async def serve_without_worker_loop(gatepass: Gatepass) -> tuple[web.AppRunner, str]:
    """Serve the app on 127.0.0.1 (built with its worker loop off: tests run due jobs with
    ``gatepass.worker.run_due()`` after moving the clock)."""
    assert gatepass.worker is None or not gatepass.run_worker_loop
    runner = web.AppRunner(gatepass.web, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def start_gatepass(
    settings: Settings, *, clock: ManualClock, atlas: MemoryIntegration, platforms: list[Installer]
) -> tuple[Gatepass, web.AppRunner, str]:
    gatepass = await build(
        settings,
        clock=clock,
        integrations={"prod-atlas": atlas},
        platforms=platforms,
        run_worker=True,
        start_worker_loop=False,
        migrate=False,
        readiness_ttl=0.0,
    )
    async with gatepass.ctx.store.transaction() as session:
        await resources.replace_discovered(session, "prod-atlas", RESOURCES, at=clock.now())
    runner, base_url = await serve_without_worker_loop(gatepass)
    return gatepass, runner, base_url


# --------------------------------------------------------------------------- reading cards


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def card_text(card: Mapping[str, Any]) -> str:
    """Every text shown on the card: a line per TextBlock, and per RichTextBlock (its runs
    joined as the reader sees them)."""
    lines = []
    for node in walk(card.get("body", [])):
        if node.get("type") == "TextBlock":
            lines.append(str(node.get("text", "")))
        elif node.get("type") == "RichTextBlock":
            lines.append("".join(str(run.get("text", "")) for run in node.get("inlines", [])))
    return "\n".join(lines)


def card_verbs(card: Mapping[str, Any]) -> list[str]:
    return [a["verb"] for a in card.get("actions", []) if a.get("type") == "Action.Execute"]


def card_inputs(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        node["id"]: node
        for node in walk(card.get("body", []))
        if str(node.get("type", "")).startswith("Input.")
    }


def choices(card: Mapping[str, Any], input_id: str) -> list[str]:
    return [c["value"] for c in card_inputs(card)[input_id]["choices"]]


def card_of(activity: Mapping[str, Any]) -> dict[str, Any]:
    [attachment] = [
        a for a in activity.get("attachments") or [] if a["contentType"] == CARD_CONTENT_TYPE
    ]
    return attachment["content"]


def conversation_of(member: FakeMember) -> str:
    return f"a:personal-{member.id}"


# --------------------------------------------------------------------------- the harness


@dataclass
class TeamsHarness:
    gatepass: Gatepass
    clock: ManualClock
    atlas: MemoryIntegration
    connector: FakeBotConnector
    channel: FakeTeamsChannel
    base_url: str

    def __post_init__(self) -> None:
        # Answers come in time however loaded the machine running the tests is; the tests of
        # late answers set the time an action has themselves (``late.within``).
        self.late.within = IN_TIME_UNDER_TEST

    @property
    def late(self) -> LateAnswers:
        """The bot's answers to card actions that were not done in time."""
        late: LateAnswers = self.gatepass.parts["teams"].wiring.bot.late
        return late

    @property
    def url(self) -> str:
        return self.base_url + "/api/messages"

    @property
    def ctx(self) -> Any:
        return self.gatepass.ctx

    async def run_jobs(self) -> int:
        assert self.gatepass.worker is not None
        return await self.gatepass.worker.run_due()

    async def settle(self) -> None:
        """Until the card actions answered before they were done have finished."""
        await self.late.settled()

    async def post(self, activity: dict[str, Any], **options: Any) -> tuple[int, Any]:
        return await self.channel.post(self.url, activity, **options)

    async def install(self, member: FakeMember) -> int:
        """Teams installs the app in the member's personal scope (installationUpdate)."""
        status, _ = await self.post(
            self.channel.activity("installationUpdate", user=member, action="add")
        )
        return status

    async def say(self, member: FakeMember, text: str) -> int:
        status, _ = await self.post(self.channel.message(text, user=member))
        return status

    async def click(
        self, member: FakeMember, verb: str, data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """An Action.Execute; returns the card the person ends up seeing: the invoke's answer,
        or, when that says Gatepass is still working on it, the card it is replaced with."""
        body = await self.invoke(member, verb, data)
        assert body["type"] == CARD_CONTENT_TYPE, body
        return body["value"]

    async def click_for_message(
        self, member: FakeMember, verb: str, data: Mapping[str, Any] | None = None
    ) -> str:
        body = await self.invoke(member, verb, data)
        if body["type"] == CARD_CONTENT_TYPE:  # answered late: the message came as a card
            return card_text(body["value"])
        assert body["type"] == "application/vnd.microsoft.activity.message", body
        return str(body["value"])

    async def invoke(
        self,
        member: FakeMember,
        verb: str,
        data: Mapping[str, Any] | None,
        *,
        card_id: str | None = None,
    ) -> dict[str, Any]:
        """The invoke's answer, or, when it was answered before the action was done, that
        answer with the card that replaced ``card_id`` (the clicked card) once it was."""
        card_id = card_id or f"card-{uuid.uuid4().hex[:12]}"
        status, body = await self.post(
            self.channel.card_action(
                verb=verb, data=dict(data or {}), user=member, replyToId=card_id
            )
        )
        assert status == 200, (status, body)
        assert body["statusCode"] == 200, body
        if body["type"] == CARD_CONTENT_TYPE and _answered_before_done(body["value"]):
            late = await self.connector.wait_for_update(
                lambda update: update.activity_id == card_id, timeout=LATE_ANSWER_TIMEOUT
            )
            body = {**body, "type": CARD_CONTENT_TYPE, "value": card_of(late.activity)}
        await self.settle()  # what the action does after its answer, as the Slack harness does
        return dict(body)

    def sent_to(self, member: FakeMember) -> list[RecordedActivity]:
        return [
            a for a in self.connector.activities if a.conversation_id == conversation_of(member)
        ]

    def cards_to(self, member: FakeMember) -> list[dict[str, Any]]:
        return [card_of(a.activity) for a in self.sent_to(member) if a.attachments]

    def latest(self, member: FakeMember, title: str) -> RecordedActivity:
        """The latest card sent to ``member`` whose text holds ``title``."""
        found = [
            a
            for a in self.sent_to(member)
            if a.attachments and title in card_text(card_of(a.activity))
        ]
        assert found, f"no card with {title!r} for {member.name}: {self.sent_to(member)!r}"
        return found[-1]

    def current(self, activity: RecordedActivity) -> dict[str, Any]:
        """A posted card as it is now: its latest update, else as it was sent."""
        updates = [
            u
            for u in self.connector.updates
            if (u.conversation_id, u.activity_id) == (activity.conversation_id, activity.id)
        ]
        return card_of(updates[-1].activity if updates else activity.activity)

    def everything_sent(self) -> str:
        """Every activity and update the connector received, as one string (leak checks)."""
        return json.dumps(
            [a.activity for a in self.connector.activities]
            + [u.activity for u in self.connector.updates]
            + [c.parameters for c in self.connector.conversations]
        )


# --------------------------------------------------------------------------- common steps

REQUEST_ID = re.compile(r"\bR[A-HJ-NP-Z2-9]{9}\b")


def request_id_in(card: Mapping[str, Any]) -> str:
    found = REQUEST_ID.search(card_text(card))
    assert found, card_text(card)
    return found.group()


def form_data(
    *,
    resource: str = "database:analytics",
    permission: str = "read",
    duration: str = "1h",
    justification: str = "quarterly report",
    integration: str = "prod-atlas",
) -> dict[str, str]:
    return {
        "integration": integration,
        "resource": resource,
        "permission": permission,
        "duration": duration,
        "justification": justification,
    }


async def submit_request(teams: TeamsHarness, member: FakeMember, **fields: str) -> str:
    """Fill in and submit the request form as ``member``; returns the request id."""
    card = await teams.click(member, "form.submit", form_data(**fields))
    assert "Request sent" in card_text(card), card_text(card)
    return request_id_in(card)


WORKING = card_text(working_card())
"""What an invoke answers when its action is still running (it replaces the card later)."""
LATE_ANSWER_TIMEOUT = 30.0


def _answered_before_done(card: Mapping[str, Any]) -> bool:
    """An answer that another card replaces once the action is done: "working on it", or a
    decision being recorded."""
    shown = card_text(card)
    return shown == WORKING or ("Recording your " in shown and "…" in shown)
