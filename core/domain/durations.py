"""Human durations as written in the config file: ``30s``, ``15m``, ``4h``, ``7d``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(?P<count>[1-9][0-9]{0,5})(?P<unit>[smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Parse ``<positive integer><s|m|h|d>``; anything else is a ValueError naming the form."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: write a positive whole number and a unit "
            "(s, m, h or d), e.g. 15m, 4h, 7d"
        )
    return timedelta(seconds=int(match["count"]) * _UNIT_SECONDS[match["unit"]])


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of ``value`` in the config file's form (``90m``, ``2h``)."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def describe_duration(value: timedelta) -> str:
    """A phrase for people: ``4 hours``, ``1 day 2 hours``, ``15 minutes``."""
    seconds = int(value.total_seconds())
    parts: list[str] = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    if seconds or not parts:
        parts.append(f"{seconds} second{'s' if seconds != 1 else ''}")
    return " ".join(parts[:2])
