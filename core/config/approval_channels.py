"""A flow's approval channel: where its approval asks are posted for everyone to see.

``notify_approvers`` on the flow says whether approvers are asked in their DMs (``dm``, the
default), only in the flow's ``approval_channel`` (``channel``) or in both. Channel ids are
checked in each platform's format when the config loads, and a flow that asks in a channel
must name one on a chat platform the config sets up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

NOTIFY_DM, NOTIFY_CHANNEL, NOTIFY_BOTH = "dm", "channel", "both"
SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{8,20}$")
TEAMS_CHANNEL_ID = re.compile(r"^19:[A-Za-z0-9._-]{1,200}@thread\.(?:tacv2|skype)$")


class ApprovalChannel(BaseModel):
    """A Slack channel id (``C…``/``G…``; the bot must be a member) and a Teams channel id
    (``19:…@thread.tacv2``, of a team where the app is installed); either may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slack: str | None = None
    teams: str | None = None

    @field_validator("slack")
    @classmethod
    def _slack(cls, value: str | None) -> str | None:
        if value is not None and not SLACK_CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a Slack channel id: give the channel's id (C0123ABCDE, at "
                "the bottom of the channel's details), not its name"
            )
        return value

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: str | None) -> str | None:
        if value is not None and not TEAMS_CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a Teams channel id: give the id in the channel's link "
                "(19:…@thread.tacv2, URL-decoded), not its name"
            )
        return value

    @model_validator(mode="after")
    def _some(self) -> ApprovalChannel:
        if self.slack is None and self.teams is None:
            raise ValueError("name a channel for at least one platform: slack: C… or teams: 19:…")
        return self

    def for_platform(self, platform: str) -> str | None:
        """The channel id on ``platform`` (``slack`` or ``teams``), if one is named."""
        value = getattr(self, platform, None) if platform in ("slack", "teams") else None
        return value if isinstance(value, str) else None


def mode_problem(notify: str, channel: ApprovalChannel | None, *, automatic: bool) -> str | None:
    """Why a flow's ``notify_approvers`` and ``approval_channel`` do not go together."""
    in_channel = notify != NOTIFY_DM
    if in_channel and channel is None:
        return (
            f"notify_approvers: {notify} needs an approval_channel "
            "(slack: C…, teams: 19:…@thread.tacv2)"
        )
    if not in_channel and channel is not None:
        return (
            "approval_channel is used only with notify_approvers: channel or both "
            "(notify_approvers is dm, so nothing would be posted there)"
        )
    if in_channel and automatic:
        return "notify_approvers has no meaning with approvers: automatic"
    return None


def platform_problem(
    notify: str, channel: ApprovalChannel | None, platforms: Iterable[str]
) -> str | None:
    """Why the channel cannot work with the chat ``platforms`` the config sets up."""
    configured = sorted(platforms)
    if channel is None or any(channel.for_platform(p) for p in configured):
        return None
    return (
        f"approval_channel: names no channel on a configured chat platform (configured: "
        f"{', '.join(configured) or 'none'}); notify_approvers: {notify} would ask nobody"
    )
