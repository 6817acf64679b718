"""Opening the embedded SQLite database from several processes at once (a `serve` and a
`worker` started together): nobody is refused with "database is locked" while the journal
mode is set, and migrations leave a new database in WAL mode already."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from core.storage import migrations
from tests.support.gatepass_process import ROOT

PROCESSES, DATABASES, INTERVAL = 4, 40, 0.1


def one_value(path: Path, query: str) -> object:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(query).fetchone()[0]
    finally:
        connection.close()


def journal_mode(path: Path) -> object:
    return one_value(path, "PRAGMA journal_mode")


def events_in(path: Path) -> object:
    return one_value(path, "SELECT count(*) FROM audit_events")


async def in_rollback_journal_mode(tmp_path: Path, count: int) -> list[Path]:
    """Copies of a migrated database switched back to a rollback journal, as a copy made by
    another tool may be: the first connections must switch each to WAL, at the same moment."""
    original = tmp_path / "original.db"
    await migrations.upgrade_async(f"sqlite+aiosqlite:///{original}")
    connection = sqlite3.connect(original)
    connection.execute("PRAGMA journal_mode = DELETE")
    connection.close()
    assert journal_mode(original) == "delete"
    copies = [tmp_path / f"copy{n}.db" for n in range(count)]
    for copy in copies:
        shutil.copyfile(original, copy)
    return copies


def opening_writer(name: str, first: float, urls: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.opening_writer",
            name,
            str(first),
            str(INTERVAL),
            *urls,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def test_processes_opening_a_database_together_all_write(tmp_path: Path) -> None:
    paths = await in_rollback_journal_mode(tmp_path, DATABASES)
    urls = [f"sqlite+aiosqlite:///{path}" for path in paths]
    first = time.time() + 3.0  # every process has started (and imported) by then
    processes = [opening_writer(f"p{n}", first, urls) for n in range(PROCESSES)]
    outputs = [await asyncio.to_thread(p.communicate, timeout=120) for p in processes]
    for process, (output, _) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
    assert [events_in(path) for path in paths] == [PROCESSES] * DATABASES
    assert {journal_mode(path) for path in paths} == {"wal"}


def test_migrations_leave_a_new_database_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    migrations.upgrade(f"sqlite+aiosqlite:///{path}")
    assert journal_mode(path) == "wal"
