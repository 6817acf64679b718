"""Bolt listeners, one module per group; each exposes ``register(app, deps)``.

Every listener acks first (within Slack's three seconds) and does the rest after, in the task
bolt runs it in, held by ``deps.in_flight`` so a shutdown waits for it. The buttons and modals
about a request share one shape (``clicks``): a table from id to handler, one wrapper, and the
request read through core's one door. Core's errors (``GatepassError``) are told to the person
privately; Slack API errors are logged; anything else reaches the app's error handler
(``trouble``), which tells the person with a reference that the log repeats.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.actions import (
    approvals,
    break_glass,
    channel,
    commands,
    form,
    home,
    requester,
    revoke,
    trouble,
)
from bot.slack.actions.base import ClickHandler, Modal
from bot.slack.deps import Deps

GROUPS = (commands, form, approvals, requester, revoke, home, channel, break_glass)
ACTIONS: dict[str, ClickHandler] = {
    **approvals.ACTIONS,
    **requester.ACTIONS,
    **revoke.ACTIONS,
    **channel.ACTIONS,
    **break_glass.ACTIONS,
}
"""Every button about a request, by action id (the request modal's own inputs are not here)."""
MODALS: dict[str, Modal] = {**approvals.MODALS, **requester.MODALS, **revoke.MODALS}
"""Every modal about a request, by view callback id."""


def register_all(app: AsyncApp, deps: Deps) -> None:
    for group in GROUPS:
        group.register(app, deps)
    app.error(trouble.error_handler(deps))
