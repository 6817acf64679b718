"""A break-glass flow beside the example's ordinary one: Alice (data-eng) may break the glass on
the ``billing`` database, which no ordinary flow of hers covers; Bob and Carol (dba) own the
integration and review."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.domain import BASE_CONFIG

SLACK_CHANNEL = "C0INCIDENT"
TEAMS_CHANNEL = "19:incident0channel@thread.tacv2"
REASON = "Checkout is down, INC-7: fixing the stuck billing migration"
RULES: dict[str, Any] = {
    "min_reason_length": 20,
    "max_uses_per_day": 1,
    "broadcast": {"slack": SLACK_CHANNEL, "teams": TEAMS_CHANNEL},
    "review_reminders": ["1h", "4h"],
}


def break_glass_flow(**changes: Any) -> dict[str, Any]:
    flow: dict[str, Any] = {
        "name": "incident",
        "requestors": [{"attribute": "group", "value": "data-eng"}],
        "integration": "prod-atlas",
        "resources": ["database:billing"],
        "permissions": ["readWrite"],
        "durations": ["30m", "1h"],
        "break_glass": copy.deepcopy(RULES),
    }
    flow.update(changes)
    return flow


def break_glass_config(**flow_changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    config["access_flows"] = [*config["access_flows"], break_glass_flow(**flow_changes)]
    return config
