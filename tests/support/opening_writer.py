"""A process that opens databases at given moments, for the tests of opening SQLite together:

    python -m tests.support.opening_writer <name> <first moment> <interval> <url>...

At ``first moment`` (seconds since the epoch) + k * ``interval`` it opens a store on the k-th
database, writes one audit event and closes the store again; then prints ``done``. Several such
processes started with the same moments open each database at the same instant.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

from core.storage import audit
from core.storage.store import Store


async def open_and_write(name: str, store: Store) -> None:
    try:
        async with store.transaction() as session:
            await audit.record(
                session, at=datetime.now(UTC), actor=f"{name}@example.com", action="test.written"
            )
    finally:
        await store.close()


async def main(name: str, first: float, interval: float, urls: list[str]) -> None:
    stores = [Store.from_url(url) for url in urls]  # each connects at its first transaction
    for index, store in enumerate(stores):
        moment = first + index * interval
        await asyncio.sleep(max(0.0, moment - time.time() - 0.005))
        while time.time() < moment:  # the last few milliseconds: as close to it as can be
            pass
        await open_and_write(name, store)
    print("done", flush=True)


if __name__ == "__main__":
    name, first, interval, *urls = sys.argv[1:]
    asyncio.run(main(name, float(first), float(interval), urls))
