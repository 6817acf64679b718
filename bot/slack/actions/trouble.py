"""The app's last resort: a listener failed in a way nobody planned for.

The person is told privately that something went wrong, with a short reference; the same
reference is logged with the traceback, so an administrator can find what happened.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from bot.slack.admission import ReplayRefused
from bot.slack.deps import Deps
from bot.slack.replies import actor, tell

ErrorHandler = Callable[[Exception, dict[str, Any]], Awaitable[None]]


def new_reference() -> str:
    return secrets.token_hex(4)


def went_wrong(reference: str) -> str:
    return (
        f":warning: Something went wrong in Gatepass (reference `{reference}`). Try again in a "
        "moment; if it keeps happening, give an administrator the reference."
    )


def error_handler(deps: Deps) -> ErrorHandler:
    """For bolt's ``app.error``: it passes the listener's exception and the request body."""

    async def something_went_wrong(error: Exception, body: dict[str, Any]) -> None:
        if isinstance(error, ReplayRefused):
            deps.logger.warning("refused a Slack delivery already seen on another replica")
            return
        reference = new_reference()
        deps.logger.error(
            "Slack listener failed [reference %s]: %s",
            reference,
            type(error).__name__,
            exc_info=error,
        )
        if not actor(body):
            return
        try:
            await tell(deps, body, went_wrong(reference))
        except Exception as also:  # the last resort must not fail in turn
            deps.logger.warning("could not tell about [reference %s]: %r", reference, also)

    return something_went_wrong
