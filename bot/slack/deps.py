"""What every Slack listener needs, wired once by ``install``: the domain context, who is who,
the Home tab, and the work still running after an ack.

Bolt answers Slack as soon as a listener calls ``ack()`` and lets the listener run on in a task
of its own; :class:`InFlight` keeps those tasks (and the few the notifier starts) so that a
shutdown waits for them instead of cutting a decision's follow-up in half.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.admission import wait_for_admission
from core.context import Context

if TYPE_CHECKING:
    from bot.slack.home import HomeTab
    from bot.slack.identity import SlackIdentity

PLATFORM = "slack"
ACK_FLUSH = 0.011
"""Bolt sends an ack's response on its next 10 ms poll; work after the ack waits that long, so a
burst of slow follow-ups never holds back the acks of the clicks that came with it."""


class InFlight:
    """Tasks still working after their ack; awaited (for a while) at shutdown."""

    def __init__(self, *, logger: logging.Logger) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._logger = logger

    def __len__(self) -> int:
        return len(self._tasks)

    def hold(self) -> None:
        """Keep the current task (a bolt listener running on after its ack) until it ends."""
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def after_ack(self) -> None:
        """Call right after ``ack()``, before changing anything: hold this task, let the acks go
        out first, and stop (``ReplayRefused``) when another replica saw this delivery."""
        self.hold()
        await asyncio.sleep(ACK_FLUSH)
        await wait_for_admission()

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Run ``work`` in the background; a failure is logged with its traceback."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._logger.error(
                "background task %s failed", task.get_name(), exc_info=task.exception()
            )

    async def drain(self, *, within: float = 10.0) -> None:
        """Wait for the running tasks (at most ``within`` seconds), then cancel the rest."""
        current = asyncio.current_task()
        pending = {t for t in self._tasks if t is not current}
        if not pending:
            return
        _done, late = await asyncio.wait(pending, timeout=within)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)


@dataclass
class Deps:
    ctx: Context
    client: AsyncWebClient
    identity: SlackIdentity
    home: HomeTab
    in_flight: InFlight
    command: str
    reveal_client: AsyncWebClient  # logs nothing below WARNING: it carries the one password
    logger: logging.Logger
    platform: str = PLATFORM
