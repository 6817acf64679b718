"""A process that writes audit events, for the tests of concurrent writers:

    python -m tests.support.audit_writer <database url> <name> <events> [<hold seconds>]

Each event is its own transaction, and every tenth one the process runs a round of the audit
sequencer too (so that sequencers race as well as writers). With ``hold seconds``, the first
event's transaction is kept open until a line arrives on stdin (at most that long) before it
commits, and ``held`` is printed once the event is written, so that another process can try to
write meanwhile. ``first took <seconds>`` tells how long the first transaction took.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from datetime import UTC, datetime

from core.storage import audit
from core.storage.store import Store


async def write(url: str, name: str, events: int, hold: float) -> None:
    store = Store.from_url(url)
    try:
        for index in range(events):
            began = time.monotonic()
            async with store.transaction() as session:
                await audit.record(
                    session,
                    at=datetime.now(UTC),
                    actor=f"{name}@example.com",
                    action="test.written",
                    detail={"writer": name, "index": index},
                )
                if index == 0 and hold:
                    await session.flush()
                    print("held", flush=True)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), hold)
            if index == 0:
                print(f"first took {time.monotonic() - began:.3f}", flush=True)
            if index % 10 == 9:
                await audit.chain_all(store)
        print("done", flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    asyncio.run(write(url, name, count, float(sys.argv[4]) if len(sys.argv) > 4 else 0.0))
