"""Driving the served app as Slack and its users would: signed commands, clicks, choices in a
modal, submissions; and reading back what landed in the fake Slack and the database."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from bot.app import Gatepass, build
from bot.slack.deps import Deps
from bot.slack.install import install
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.context import Context
from core.domain.lifecycle import Status
from core.domain.views import RequestView
from core.jobs.handlers import job_kinds
from core.jobs.queue import Backoff, Worker
from core.storage import resources
from core.storage.request_views import load_view
from tests.fakes.slack import (
    FakeSlack,
    SlackRequest,
    block_actions,
    slash_command,
    view_submission,
)
from tests.support.clock import ManualClock
from tests.support.domain import BASE_CONFIG, RESOURCES
from tests.support.memory_integration import MemoryIntegration

SIGNING_SECRET = "e3b0c44298fc1c149afbf4c8996fb924"
INJECTIONS = ("<!channel>", "<@U123>", "<https://evil|click>", "*bold*")
NASTY = " ".join(INJECTIONS)
PEOPLE = {
    "U0ALICE": ("alice@example.com", "Alice Doe"),
    "U0BOB": ("Bob@Example.com", "Bob Ray"),
    "U0CAROL": ("carol@example.com", "Carol Lin"),
    "U0DAVE": ("dave@example.com", "Dave Kim"),
    "U0MALLORY": ("mallory@example.com", "Mallory Mole"),  # not in the directory
}


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def texts(value: Any, *, mrkdwn_only: bool = False) -> Iterator[str]:
    """Every text of a message or view: text objects (mrkdwn only, if asked) and ``text``."""
    if isinstance(value, dict):
        kind = value.get("type")
        if kind in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            if kind == "mrkdwn" or not mrkdwn_only:
                yield value["text"]
            return
        if kind == "text" and isinstance(value.get("text"), str) and not mrkdwn_only:
            yield value["text"]
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from texts(item, mrkdwn_only=mrkdwn_only)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item, mrkdwn_only=mrkdwn_only)


_DATE = re.compile(r"<!date\^[^|<>]*\|([^<>]*)>")


def raw(value: Any) -> str:
    """Every text of a message or view, as sent (mrkdwn source)."""
    return "\n".join(texts(value))


def shown(value: Any) -> str:
    """The texts as a reader sees them: dates and escaped characters shown as their fallback,
    entities decoded (mentions or links would stay as ``<…>``; escaping leaves none)."""
    text = _DATE.sub(lambda m: m.group(1), raw(value))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """``{action_id: value}`` of every button in a message or view."""
    found: dict[str, str] = {}
    for block in message.get("blocks") or []:
        elements = block.get("elements") or []
        if block.get("accessory"):
            elements = [*elements, block["accessory"]]
        for element in elements:
            if isinstance(element, dict) and element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
    return found


@dataclass
class Harness:
    gatepass: Gatepass
    slack: FakeSlack
    runner: web.AppRunner
    session: aiohttp.ClientSession
    url: str
    clock: ManualClock
    worker: Worker
    atlas: MemoryIntegration

    @property
    def ctx(self) -> Context:
        return self.gatepass.ctx

    @property
    def deps(self) -> Deps:
        deps: Deps = self.gatepass.parts["slack"].wiring
        return deps

    async def close(self) -> None:
        await self.session.close()
        await self.runner.cleanup()

    # ------------------------------------------------------------------ sending

    async def send(
        self, request: SlackRequest, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
    ) -> Reply:
        return await self.send_raw(
            request.body, request.headers(secret=secret, timestamp=timestamp)
        )

    async def send_raw(self, body: bytes, headers: dict[str, str]) -> Reply:
        async with self.session.post(self.url, data=body, headers=headers) as response:
            return Reply(response.status, await response.read())

    async def settle(self, *, within: float = 5) -> None:
        """Until the work listeners and the notifier do after their ack is finished."""
        await self.deps.in_flight.drain(within=within)

    async def run_jobs(self) -> int:
        ran = await self.worker.run_due()
        await self.settle()
        return ran

    def user_name(self, user_id: str) -> str:
        return self.slack.users[user_id].name

    async def command(self, user_id: str, text: str = "") -> Reply:
        reply = await self.send(
            slash_command(
                text=text,
                user_id=user_id,
                user_name=self.user_name(user_id),
                channel_id=self.slack.dm_channel(user_id),
                trigger_id=self.slack.new_trigger_id(user_id=user_id),
                response_url=self.slack.response_url(),
            )
        )
        await self.settle()
        return reply

    async def open_request_modal(self, user_id: str) -> str:
        mark = self.slack.mark()
        assert (await self.command(user_id)).status == 200
        opened = await self.slack.wait_for("views.open", since=mark)
        view_id = opened.response["view"]["id"]
        await self.slack.wait_for("views.update", lambda c: c["view_id"] == view_id, since=mark)
        return str(view_id)

    def view(self, view_id: str) -> dict[str, Any]:
        return self.slack.views[view_id]

    def state(self, view_id: str, picks: dict[str, str | None]) -> dict[str, Any]:
        """The modal's ``state.values`` as Slack would send them: initial values, then picks."""
        values: dict[str, Any] = {}
        for block in self.view(view_id)["blocks"]:
            if block.get("type") != "input":
                continue
            element = block["element"]
            action_id = element["action_id"]
            if element["type"] == "plain_text_input":
                typed = picks.get(action_id, element.get("initial_value"))
                entry: dict[str, Any] = {"type": "plain_text_input", "value": typed}
            else:
                option = element.get("initial_option")
                if action_id in picks:
                    value = picks[action_id]
                    option = (
                        {"text": {"type": "plain_text", "text": value}, "value": value}
                        if value
                        else None
                    )
                entry = {"type": element["type"], "selected_option": option}
            values[block["block_id"]] = {action_id: entry}
        return values

    def block_of(self, view_id: str, action_id: str) -> str:
        for block in self.view(view_id)["blocks"]:
            element = block.get("element") or {}
            if element.get("action_id") == action_id:
                return str(block["block_id"])
        raise AssertionError(f"{action_id} is not in view {view_id}: {self.view(view_id)}")

    async def choose(self, user_id: str, view_id: str, action_id: str, value: str) -> None:
        """Pick ``value`` in a select with dispatch_action; waits for the modal's update."""
        view = {**self.view(view_id), "state": {"values": self.state(view_id, {action_id: value})}}
        mark = self.slack.mark()
        reply = await self.send(
            block_actions(
                action_id=action_id,
                user_id=user_id,
                user_name=self.user_name(user_id),
                block_id=self.block_of(view_id, action_id),
                view=view,
                selected_option={"text": {"type": "plain_text", "text": value}, "value": value},
                trigger_id=self.slack.new_trigger_id(user_id=user_id, view_id=view_id),
            )
        )
        assert reply.status == 200
        await self.slack.wait_for("views.update", lambda c: c["view_id"] == view_id, since=mark)
        await self.settle()

    async def submit(
        self, user_id: str, view_id: str, picks: dict[str, str | None] | None = None
    ) -> Reply:
        view = self.view(view_id)
        reply = await self.send(
            view_submission(
                callback_id=view["callback_id"],
                values=self.state(view_id, picks or {}),
                user_id=user_id,
                user_name=self.user_name(user_id),
                private_metadata=view.get("private_metadata", ""),
                view_id=view_id,
            )
        )
        await self.settle()
        return reply

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        message: dict[str, Any] | None = None,
        view_id: str | None = None,
    ) -> Reply:
        """Click a button in ``message`` (a DM as stored by the fake) or in view ``view_id``."""
        trigger = self.slack.new_trigger_id(user_id=user_id, view_id=view_id)
        common: dict[str, Any] = {
            "action_id": action_id,
            "value": value,
            "user_id": user_id,
            "user_name": self.user_name(user_id),
            "trigger_id": trigger,
        }
        if view_id is not None:
            request = block_actions(**common, view=self.view(view_id))
        else:
            channel = self.slack.dm_channel(user_id)
            ts = message["ts"] if message else "1700000000.000001"
            request = block_actions(**common, channel_id=channel, message_ts=ts)
        reply = await self.send(request)
        await self.settle()
        return reply

    # ------------------------------------------------------------------ reading

    def dm(self, user_id: str) -> list[dict[str, Any]]:
        """The app's messages in its DM with ``user_id``, oldest first (as they are now)."""
        channel = self.slack.messages.get(self.slack.dm_channel(user_id), {})
        return [channel[ts] for ts in sorted(channel)]

    def dm_with(self, user_id: str, needle: str) -> dict[str, Any]:
        """The newest DM to ``user_id`` whose text contains ``needle``."""
        for message in reversed(self.dm(user_id)):
            if needle in shown(message):
                return message
        raise AssertionError(
            f"no DM to {user_id} mentions {needle!r}: {[shown(m) for m in self.dm(user_id)]}"
        )

    def private_notes(self, user_id: str) -> list[str]:
        """Ephemeral messages, response_url answers and Home notices for ``user_id``."""
        notes = [shown(e) for e in self.slack.ephemerals if e["user"] == user_id]
        notes += [shown(c.args) for c in self.slack.calls_to("response_url")]
        return notes

    async def view_of(self, request_id: str) -> RequestView:
        async with self.ctx.store.reading() as session:
            return await load_view(session, self.ctx.directory, request_id)

    async def status(self, request_id: str) -> Status:
        return (await self.view_of(request_id)).status

    async def request_ids(self) -> list[str]:
        return [str(i) for i in await self.rows("SELECT id FROM requests ORDER BY created_at")]

    async def rows(self, sql: str) -> list[Any]:
        async with self.ctx.store.reading() as session:
            return list((await session.execute(sa.text(sql))).scalars())

    async def count(self, table: str) -> int:
        return int((await self.rows(f"SELECT COUNT(*) FROM {table}"))[0])

    async def counts(self) -> dict[str, int]:
        tables = ("requests", "decisions", "chat_accounts", "audit_events", "jobs", "grants")
        return {table: await self.count(table) for table in tables}


# --------------------------------------------------------------------------- building


def slack_config(slack: FakeSlack, database_url: str, **changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    config["database_url"] = database_url
    config["encryption_key"] = "env:GATEPASS_KEY"
    config["slack"] = {
        "bot_token": "env:SLACK_BOT_TOKEN",
        "signing_secret": "env:SLACK_SIGNING_SECRET",
        "api_url": slack.api_url,
    }
    config.update(changes)
    return config


async def start_harness(
    slack: FakeSlack,
    database_url: str,
    encryption_key: str,
    *,
    config: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    backlog: int = 128,
    also: tuple[str, ...] = (),
    readiness_ttl: float = 0.0,
) -> Harness:
    """``also``: more in-memory integrations (named in ``config``), with the same resources."""
    settings = resolve_settings(
        parse_config(config or slack_config(slack, database_url)),
        config_path="test",
        environ={
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GATEPASS_KEY": encryption_key,
            **(environ or {}),
        },
    )
    clock = ManualClock()
    atlas = MemoryIntegration("prod-atlas", resources=list(RESOURCES))
    integrations = {
        "prod-atlas": atlas,
        **{name: MemoryIntegration(name, resources=list(RESOURCES)) for name in also},
    }
    gatepass = await build(
        settings,
        clock=clock,
        integrations=integrations,  # type: ignore[arg-type]
        run_worker=False,
        migrate=False,
        platforms=[install],
        readiness_ttl=readiness_ttl,
    )
    async with gatepass.ctx.store.transaction() as session:
        for name in integrations:
            await resources.replace_discovered(session, name, RESOURCES, at=clock.now())
    worker = Worker(
        gatepass.ctx,
        job_kinds(gatepass.notifiers),
        backoff=Backoff(base=1, cap=60, jitter=0.0),
    )
    runner = web.AppRunner(gatepass.web, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=backlog).start()
    port = runner.addresses[0][1]
    return Harness(
        gatepass=gatepass,
        slack=slack,
        runner=runner,
        session=aiohttp.ClientSession(),
        url=f"http://127.0.0.1:{port}/slack/events",
        clock=clock,
        worker=worker,
        atlas=atlas,
    )
