"""People asking for access through Slack, and their approver, ``concurrency`` at a time (the
load of ``bench.revocations --through slack``):

    python -m bench.slack_load <watch url> <serve urls,...> <first person> <count> <concurrency>

Each person does what they would do in Slack, as signed HTTP requests sent round-robin to the
``serve`` processes (Slack's load balancer): even-numbered people type the slash command, the
others open their Home tab and click "Request access"; then each choice the modal still lacks
(a ``block_actions`` on a select with ``dispatch_action``, answered by a ``views.update``), the
``view_submission`` of the filled form, and the approver's Approve click on the DM that reached
the fake Slack. Every request is timed from send to response read (Slack gives up after 3 s).

What people see in Slack comes from ``bench.slack_watch`` in the benchmark's process. Prints
one JSON line: ack latencies (ms) by kind of interaction, failures by reason, the approvals
acked, and this process's CPU seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.slack_watch import APPROVER, SIGNING_SECRET, justification, person_id
from bot.slack import ids
from tests.fakes.slack_requests import SlackRequest, block_actions, event_callback, slash_command
from tests.fakes.slack_requests import view_submission as submission

RESOURCE = "database:sales"
MAX_CHOICES = 6


class Failed(Exception):
    """A person could not go on: the reason is counted, the rest of the load goes on."""


@dataclass
class Load:
    session: aiohttp.ClientSession
    watch: str
    serves: list[str]
    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    approved: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def send(self, kind: str, request: SlackRequest) -> bytes:
        """Sign and send one request to the next ``serve`` process; timed to the answer read."""
        url = self.serves[next(self._turn) % len(self.serves)]
        headers = request.headers(secret=SIGNING_SECRET)
        started = time.perf_counter()
        async with self.session.post(url, data=request.body, headers=headers) as response:
            body = await response.read()
        self.latencies.setdefault(kind, []).append(1000 * (time.perf_counter() - started))
        if response.status != 200:
            raise Failed(f"{kind}: HTTP {response.status}")
        return body

    async def see(self, what: str, **query: str) -> dict[str, Any]:
        """What the person sees in Slack (``bench.slack_watch``), once it arrived."""
        async with self.session.get(f"{self.watch}/{what}", params=query) as response:
            if response.status != 200:
                raise Failed(f"{what} never arrived")
            found: dict[str, Any] = await response.json()
            return found

    async def trigger(self, user: str, view: str | None = None) -> dict[str, str]:
        query = {"user": user, **({"view": view} if view else {})}
        async with self.session.post(f"{self.watch}/trigger", params=query) as response:
            minted: dict[str, str] = await response.json()
            return minted


def _state(view: dict[str, Any], picks: dict[str, str | None]) -> dict[str, Any]:
    """The modal's ``state.values`` as Slack sends them: initial values, then the picks."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        action_id = element["action_id"]
        if element["type"] == "plain_text_input":
            entry = {"type": "plain_text_input", "value": picks.get(action_id)}
            entry["value"] = entry["value"] or element.get("initial_value")
        else:
            option = element.get("initial_option")
            if picks.get(action_id):
                option = _option(str(picks[action_id]))
            entry = {"type": element["type"], "selected_option": option}
        values[block["block_id"]] = {action_id: entry}
    return values


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def _next_choice(view: dict[str, Any]) -> tuple[str, str, str] | None:
    """The first select still empty: (block id, action id, the value the person picks)."""
    for block in view["blocks"]:
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("initial_option"):
            continue
        if element.get("type") == "external_select":
            return block["block_id"], element["action_id"], RESOURCE
        if element.get("type") == "static_select":
            options = element.get("options") or [
                o for g in element.get("option_groups") or [] for o in g["options"]
            ]
            return block["block_id"], element["action_id"], str(options[0]["value"])
    return None


async def _open_modal(load: Load, index: int) -> dict[str, Any]:
    """The slash command, or the Home tab's "Request access": the filled request modal."""
    user, name = person_id(index), f"p{index}"
    if index % 2 == 0:
        minted = await load.trigger(user)
        command = slash_command(
            user_id=user,
            user_name=name,
            channel_id="D" + user[1:],  # the app's DM with them
            trigger_id=minted["trigger_id"],
            response_url=minted["response_url"],
        )
        await load.send("command", command)
    else:
        await load.send("home_opened", event_callback({"type": "app_home_opened", "user": user}))
        home = await load.see("home", user=user)
        minted = await load.trigger(user)
        click = block_actions(
            action_id=ids.OPEN_REQUEST_MODAL,
            value="home",
            user_id=user,
            user_name=name,
            block_id="home:request",
            view=home,
            trigger_id=minted["trigger_id"],
        )
        await load.send("home_request_access", click)
    return await load.see("view", trigger=minted["trigger_id"])


async def _fill(load: Load, index: int, view: dict[str, Any]) -> dict[str, Any]:
    """Each choice the modal lacks, one at a time, as Gatepass updates the modal after each."""
    user = person_id(index)
    for _ in range(MAX_CHOICES):
        choice = _next_choice(view)
        if choice is None:
            return view
        block_id, action_id, value = choice
        shown = {**view, "state": {"values": _state(view, {action_id: value})}}
        minted = await load.trigger(user, view=view["id"])
        picked = block_actions(
            action_id=action_id,
            user_id=user,
            user_name=f"p{index}",
            block_id=block_id,
            view=shown,
            selected_option=_option(value),
            trigger_id=minted["trigger_id"],
        )
        await load.send("choose", picked)
        view = await load.see("view", id=view["id"], after=view["hash"])
    raise Failed("the form never had all its choices")


async def one_person(load: Load, index: int) -> None:
    view = await _fill(load, index, await _open_modal(load, index))
    submitted = submission(
        callback_id=view["callback_id"],
        values=_state(view, {ids.JUSTIFICATION_INPUT: justification(index)}),
        user_id=person_id(index),
        user_name=f"p{index}",
        private_metadata=view.get("private_metadata", ""),
        view_id=view["id"],
    )
    answer = await load.send("submit", submitted)
    if answer.strip():  # errors on the form, or the form shown again
        raise Failed(f"submit refused: {answer[:200]!r}")
    ask = await load.see("ask", person=str(index))
    minted = await load.trigger(APPROVER)
    approve = block_actions(
        action_id=ids.APPROVE,
        value=ask["request_id"],
        user_id=APPROVER,
        user_name="bob",
        channel_id=ask["channel"],
        message_ts=ask["ts"],
        trigger_id=minted["trigger_id"],
        response_url=minted["response_url"],
    )
    await load.send("approve", approve)
    load.approved += 1


async def run(watch: str, serves: list[str], first: int, count: int, people: int) -> Load:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        load = Load(session, watch, serves)
        at_once = asyncio.Semaphore(people)

        async def person(index: int) -> None:
            async with at_once:
                try:
                    await one_person(load, index)
                except Failed as failure:
                    load.failures[str(failure)] += 1
                except (aiohttp.ClientError, TimeoutError) as error:
                    load.failures[f"{type(error).__name__}: {error}"[:200]] += 1

        await asyncio.gather(*(person(i) for i in range(first, first + count)))
    return load


def main() -> None:
    watch, serves, first, count, people = sys.argv[1:6]
    started = time.time()
    load = asyncio.run(run(watch, serves.split(","), int(first), int(count), int(people)))
    figures = {
        "latencies_ms": load.latencies,
        "failures": dict(load.failures),
        "approved": load.approved,
        "cpu_s": time.process_time(),
        "wall_s": time.time() - started,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
