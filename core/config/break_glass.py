"""The ``break_glass:`` section of an access flow: self-approved, broadcast, reviewed access.

A break-glass flow lets its requesters approve their own request with a reason, at once, for a
short time, a few times a day; everybody concerned is told and the integration owners review
every use afterwards. The rules that involve the rest of the flow (durations, approvers) and
the integration (owners to review) are checked here too, so that a flow is refused at load with
one clear sentence instead of misbehaving at 3 a.m.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.domain.durations import format_duration, parse_duration

# The longest a break-glass grant may last: it is meant to get through an incident until an
# approver is awake, not to replace an approval.
MAX_BREAK_GLASS_DURATION = timedelta(hours=4)
MAX_REVIEW_REMINDER = timedelta(days=7)
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{6,}$")
TEAMS_CHANNEL = re.compile(r"^19:[A-Za-z0-9_.=-]+@thread\.(tacv2|skype)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Broadcast(_Strict):
    """Where every break-glass use is announced: a Slack channel id and/or a Teams channel id."""

    slack: str | None = None
    teams: str | None = None

    @field_validator("slack")
    @classmethod
    def _slack(cls, value: str | None) -> str | None:
        if value is not None and not SLACK_CHANNEL.match(value):
            raise ValueError(
                f"{value!r} is not a Slack channel id (like C0123ABCD: the channel's details "
                "show it; the app must be a member of the channel)"
            )
        return value

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: str | None) -> str | None:
        if value is not None and not TEAMS_CHANNEL.match(value):
            raise ValueError(
                f"{value!r} is not a Teams channel id (like 19:abc…@thread.tacv2: 'Get link "
                "to channel' shows it; the app must be installed in the channel's team)"
            )
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Broadcast:
        if self.slack is None and self.teams is None:
            raise ValueError(
                "name a slack channel, a teams channel or both: a break-glass use is always "
                "announced"
            )
        return self

    @property
    def channels(self) -> tuple[tuple[str, str], ...]:
        """``(platform, channel)`` of each configured channel."""
        found = (("slack", self.slack), ("teams", self.teams))
        return tuple((platform, channel) for platform, channel in found if channel)


class BreakGlass(_Strict):
    min_reason_length: int = Field(20, ge=10, le=1000)
    max_uses_per_day: int = Field(1, ge=1, le=10)  # per person, per UTC calendar day
    broadcast: Broadcast
    review_reminders: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=4))

    @field_validator("review_reminders", mode="before")
    @classmethod
    def _reminders(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(v if isinstance(v, timedelta) else parse_duration(v) for v in value)
        return value

    @model_validator(mode="after")
    def _reminder_times(self) -> BreakGlass:
        if len(self.review_reminders) > 10:
            raise ValueError("review_reminders: at most 10 reminders")
        if len(set(self.review_reminders)) != len(self.review_reminders):
            raise ValueError("review_reminders: a reminder time is listed twice")
        for offset in self.review_reminders:
            if offset > MAX_REVIEW_REMINDER:
                raise ValueError(
                    f"review_reminders: {format_duration(offset)} is later than "
                    f"{format_duration(MAX_REVIEW_REMINDER)} after the use"
                )
        return self


def break_glass_flow_problem(
    *,
    break_glass: BreakGlass,
    durations: tuple[timedelta, ...],
    automatic: bool,
    require_justification: bool,
    reminders: tuple[timedelta, ...],
) -> str | None:
    """Why a flow's other settings contradict its ``break_glass`` (None when they do not)."""
    longest = max(durations)
    if longest > MAX_BREAK_GLASS_DURATION:
        return (
            f"break_glass: the longest of durations is {format_duration(longest)}, more than "
            f"break-glass access may last ({format_duration(MAX_BREAK_GLASS_DURATION)}): it is "
            "self-approved, so keep it short and ask for longer access the ordinary way"
        )
    if automatic:
        return "break_glass cannot be combined with approvers: automatic (it is self-approved)"
    if not require_justification:
        return "break_glass needs require_justification: the reason is what the owners review"
    if reminders:
        return (
            "break_glass: reminders have no meaning (a break-glass request never waits for an "
            "approver); use break_glass.review_reminders for the owners' review"
        )
    return None


def break_glass_integration_problem(has_owners: bool) -> str | None:
    """A break-glass flow needs integration owners: they are told and review every use."""
    if has_owners:
        return None
    return (
        "break_glass: the flow's integration has no integration_owners; they are told of every "
        "break-glass use and review it"
    )
