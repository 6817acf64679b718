"""Bolt listeners, one module per group; each exposes ``register(app, deps)``.

Every listener acks first (within Slack's three seconds) and does the rest after, in the task
bolt runs it in, held by ``deps.in_flight`` so a shutdown waits for it. Core's errors
(``GatepassError``) are shown to the person; Slack API errors are logged; anything else is left
to bolt's error handler.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.deps import Deps
from bot.slack.listeners import approvals, commands, home, request_modal, requester

GROUPS = (commands, request_modal, approvals, requester, home)


def register_all(app: AsyncApp, deps: Deps) -> None:
    for group in GROUPS:
        group.register(app, deps)
