"""How late the benchmark's own event loop runs: the fakes (Atlas, Slack) answer from it.

A task asks to wake every 50 ms and records how much later it woke. If the loop were saturated,
the fakes' answers would be late by as much, and the figures measured through them (revoke
lateness, ack latency) would be the fakes' rather than Gatepass's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench.atlas_rig import percentile

PERIOD = 0.05


@dataclass
class LoopLag:
    lags_ms: list[float] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(PERIOD)
            self.lags_ms.append(1000 * (time.perf_counter() - asked - PERIOD))

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
        return {
            "bench_loop_lag_p99_ms": percentile(self.lags_ms, 0.99),
            "bench_loop_lag_max_ms": max(self.lags_ms, default=float("nan")),
        }
