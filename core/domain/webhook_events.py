"""The events outbound webhooks carry, and the one table from audit actions to them. Pure.

The names are Apono's request webhook triggers, plus ``RequestRevoked`` and ``BreakGlassUsed``.
A new event is one line in ``EVENT_OF_ACTION``: the audit action that causes it, and its name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

EVENT_OF_ACTION: Mapping[str, str] = {
    "request.submitted": "RequestCreated",
    "request.approved": "RequestApproved",
    "request.denied": "RequestRejected",
    "grant.active": "RequestGranted",
    "grant.expired": "RequestExpired",
    "grant.failed": "RequestFailed",
    "grant.revoked": "RequestRevoked",
    "request.break_glass_used": "BreakGlassUsed",  # a self-approved break-glass grant
}
EVENTS: tuple[str, ...] = tuple(dict.fromkeys(EVENT_OF_ACTION.values()))
TEST_EVENT = "WebhookTest"  # ``gatepass webhooks test``: never subscribed to, always sendable


def event_of(action: str) -> str | None:
    """The webhook event an audit action causes (None: it causes none)."""
    return EVENT_OF_ACTION.get(action)


def unknown_event_problem(name: str) -> str | None:
    """Why ``name`` is not an event (None when it is), naming the nearest valid one."""
    if name in EVENTS:
        return None
    nearest = difflib.get_close_matches(name, EVENTS, n=1, cutoff=0.0)
    folded = [event for event in EVENTS if event.lower() == name.lower()]
    hint = (folded or nearest or [EVENTS[0]])[0]
    return f"{name!r} is not a webhook event; did you mean {hint!r}? (events: {', '.join(EVENTS)})"
