"""``gatepass serve`` or ``gatepass worker`` in a process of its own, for tests that kill it.

The test's event loop keeps running while the process starts (it serves the Atlas fake), and
the process's output is read all the time by a thread (a full pipe would block the process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class GatepassProcess:
    command: str  # serve | worker
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    started_at: float = 0.0  # time.time() of the launch
    ready_at: float = 0.0  # time.time() when it answered /healthz or its worker started

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill_hard(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    async def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(self.process.wait, 30)
        return self.output


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except OSError:
        return False


def _worker_started(lines: list[str]) -> bool:
    return any(
        "gatepass.jobs: worker " in line and line.rstrip().endswith(" started") for line in lines
    )


async def launch(command: str, config: Path, env: dict[str, str], *, port: int) -> GatepassProcess:
    """Start ``gatepass <command>`` and wait until it is ready (at most 60 s)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", command, "--config", str(config)],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = GatepassProcess(command, process, started_at=time.time())
    threading.Thread(target=running._read, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gatepass {command} exited early:\n{running.output}")
        if command == "serve" and await asyncio.to_thread(_healthy, port):
            break
        if command == "worker" and _worker_started(running.lines):
            break
        await asyncio.sleep(0.05)
    else:
        process.kill()
        raise AssertionError(f"gatepass {command} did not start:\n{running.output}")
    running.ready_at = time.time()
    return running
