"""CPU seconds the PostgreSQL server spent during a benchmark, read from ``/proc``.

Backends come and go with connection pools, so a before/after difference would miss those that
exited in between: the sampler reads every ``postgres`` process once a second and adds, for each,
what it spent since it was first seen (from zero for a backend born meanwhile). Backends of the
benchmark's database are told apart by their process title (``postgres: user db host ...``);
the server's other processes and other databases' backends (other builds share the server) are
counted separately.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _postgres_processes() -> dict[int, tuple[str, float]]:
    """pid -> (process title, CPU seconds so far) of every process named ``postgres``."""
    found: dict[int, tuple[str, float]] = {}
    for folder in Path("/proc").iterdir():
        if not folder.name.isdigit():
            continue
        try:
            stat = (folder / "stat").read_text()
            if "(postgres)" not in stat:
                continue
            title = (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(folder.name)] = (title, (int(fields[11]) + int(fields[12])) / TICK)
    return found


@dataclass
class PostgresCpu:
    database: str
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, tuple[str, float]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def sample(self, *, baseline: bool = False) -> None:
        for pid, (title, seconds) in _postgres_processes().items():
            self._first.setdefault(pid, seconds if baseline else 0.0)
            self._last[pid] = (title, seconds)

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(1.0)

    def start(self) -> None:
        self.sample(baseline=True)
        self._task = asyncio.create_task(self._sample_forever())

    def stop(self) -> dict[str, float]:
        """CPU seconds since ``start``: this database's backends, and everything else."""
        if self._task is not None:
            self._task.cancel()
        self.sample()
        ours = other = 0.0
        for pid, (title, seconds) in self._last.items():
            spent = seconds - self._first[pid]
            if f" {self.database} " in title:
                ours += spent
            else:
                other += spent
        return {"postgres_backends_cpu_s": ours, "postgres_other_cpu_s": other}
