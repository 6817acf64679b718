"""The fake Slack Web API (``tests.fakes.slack``) in a process of its own, so that the CPU a
benchmark measures is Gatepass's, not the fake's.

    .venv/bin/python -m bench.slack_server PEOPLE

It adds the users ``U{i:08d}`` (``person{i}@example.com``) and ``U0OWNER``
(``owner@example.com``), prints its API URL and bot token, then answers each line ``count`` on
its standard input with the calls it answered so far, by method (and how many updates
went to a copy already updated), as one line of JSON. It stops
at the end of its input.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

from tests.fakes.slack import FakeSlack

OWNER_ID, OWNER_EMAIL = "U0OWNER", "owner@example.com"


def user_id(index: int) -> str:
    return f"U{index:08d}"


def email(index: int) -> str:
    return f"person{index}@example.com"


async def serve(people: int) -> None:
    async with FakeSlack() as slack:
        for i in range(people):
            slack.add_user(user_id(i), email=email(i), real_name=f"Person {i}")
        slack.add_user(OWNER_ID, email=OWNER_EMAIL, real_name="Olive Owner")
        print(json.dumps({"api_url": slack.api_url, "bot_token": slack.bot_token}), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "count":
                counts = Counter(call.method for call in slack.calls)
                copies = Counter((c["channel"], c["ts"]) for c in slack.calls_to("chat.update"))
                counts["repeated chat.update"] = sum(n - 1 for n in copies.values())
                print(json.dumps(dict(counts)), flush=True)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
