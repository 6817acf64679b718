"""The audit log with writers in several real processes: their events form one chain that
verifies (and names the event edited or removed afterwards), and on PostgreSQL a transaction
that has written an event does not hold up another process's event."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from core.storage import audit, migrations
from core.storage.models import AuditEvent
from core.storage.store import Store
from tests.support.gatepass_process import ROOT

EVENTS = 60


def writer(url: str, name: str, events: int, hold: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.audit_writer", url, name, str(events), str(hold)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def finished(process: subprocess.Popen[str]) -> str:
    output, _ = await asyncio.to_thread(process.communicate, timeout=120)
    assert process.returncode == 0, output
    return output


async def verified(store: Store) -> audit.VerifyResult:
    await audit.chain_all(store)
    async with store.reading() as session:
        return await audit.verify(session)


async def test_two_writer_processes_make_one_chain_that_verifies(database_url: str) -> None:
    first, second = writer(database_url, "ann", EVENTS), writer(database_url, "ben", EVENTS)
    await finished(first)
    await finished(second)
    store = Store.from_url(database_url)
    try:
        result = await verified(store)
        assert result.ok, result.problem
        assert (result.checked, result.pending) == (2 * EVENTS, 0)
        async with store.reading() as session:
            actors = (await session.execute(sa.select(AuditEvent.actor))).scalars().all()
        assert sorted(set(actors)) == ["ann@example.com", "ben@example.com"]
        async with store.transaction() as session:
            await session.execute(
                sa.update(AuditEvent)
                .where(AuditEvent.chain_seq == 17)  # type: ignore[arg-type]
                .values(actor="mallory@example.com")
            )
        edited = await verified(store)
        assert not edited.ok and edited.seq == 17 and "was altered" in (edited.problem or "")
        async with store.transaction() as session:
            await session.execute(
                sa.delete(AuditEvent).where(AuditEvent.chain_seq == 17)  # type: ignore[arg-type]
            )
        removed = await verified(store)
        assert not removed.ok and removed.seq == 17 and "missing" in (removed.problem or "")
    finally:
        await store.close()


@pytest.mark.postgres
async def test_an_open_transaction_with_an_event_does_not_hold_up_another_process(
    postgres_url: str,
) -> None:
    holder = writer(postgres_url, "slow", 1, hold=60.0)
    assert holder.stdout is not None and holder.stdin is not None
    line = await asyncio.to_thread(holder.stdout.readline)
    assert line.strip() == "held"
    quick = writer(postgres_url, "quick", 1)
    try:
        output, _ = await asyncio.to_thread(quick.communicate, timeout=30)
    except subprocess.TimeoutExpired:
        output = "first took (still waiting after 30 s)"
    finally:
        holder.stdin.write("go\n")  # the first transaction commits now
        holder.stdin.flush()
    await finished(holder)
    quick.wait(timeout=60)
    took = output.split("first took ", 1)[1].split()[0]
    assert took != "(still" and float(took) < 2.0, f"the second writer's event took {took}s"
    store = Store.from_url(postgres_url)
    try:
        result = await verified(store)
        assert result.ok and result.checked == 2, result.problem
    finally:
        await store.close()


def _old_chain_rows(count: int) -> list[dict[str, object]]:
    """Events as the writers before the sequencer chained them: position = row number."""
    rows, previous = [], audit.GENESIS
    for seq in range(1, count + 1):
        event = AuditEvent(
            seq=seq,
            chain_seq=seq,
            at=datetime(2026, 11, 30, 12, seq, tzinfo=UTC),
            actor="alice@example.com",
            action="request.submitted",
            request_id=f"R{seq:05d}",
            detail={"n": seq},
        )
        event.prev_hash, event.hash = previous, audit.event_hash(previous, event)
        previous = event.hash
        rows.append({k: getattr(event, k) for k in audit.EXPORT_FIELDS if k != "chain_seq"})
    return rows


async def test_a_chain_written_before_the_migration_still_verifies(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrations.upgrade_async(url, "0004")
    rows = _old_chain_rows(3)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        table = sa.table("audit_events", *(sa.column(name) for name in rows[0]))
        await connection.execute(
            sa.insert(table), [{**r, "detail": json.dumps(r["detail"])} for r in rows]
        )
        await connection.execute(
            sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, :hash)"),
            {"hash": rows[-1]["hash"]},
        )
    await engine.dispose()
    await migrations.upgrade_async(url)
    store = Store.from_url(url)
    try:
        assert (await verified(store)).checked == 3
        async with store.transaction() as session:
            await audit.record(session, at=datetime.now(UTC), actor="x@example.com", action="a.b")
        result = await verified(store)
        assert result.ok and result.checked == 4, result.problem
    finally:
        await store.close()
