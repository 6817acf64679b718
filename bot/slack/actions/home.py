"""The App Home tab, published whenever its owner opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        await deps.in_flight.after_ack()  # bolt acked the event already
        user_id = str(event.get("user", ""))
        try:
            await deps.home.publish(user_id)
        except SlackApiError as error:
            deps.logger.warning("could not publish the Home tab of %s: %s", user_id, error)
