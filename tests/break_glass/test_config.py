"""The ``break_glass:`` section is strict: every contradiction is refused at load, saying why."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from core.config.schema import ConfigError, parse_config
from tests.break_glass.config import RULES, break_glass_config


def rules(**changes: Any) -> dict[str, Any]:
    found = copy.deepcopy(RULES)
    found.update(changes)
    return found


def test_a_break_glass_flow_loads_with_its_rules() -> None:
    flow = parse_config(break_glass_config()).flow("incident")
    assert flow.break_glass is not None
    assert flow.break_glass.min_reason_length == 20
    assert flow.break_glass.broadcast.channels == (
        ("slack", "C0INCIDENT"),
        ("teams", "19:incident0channel@thread.tacv2"),
    )
    assert flow.break_glass.review_reminders == (timedelta(hours=1), timedelta(hours=4))
    assert parse_config(break_glass_config()).flow("analytics-read").break_glass is None


BAD = [
    ({"durations": ["1h", "8h"]}, "the longest of durations is 8h, more than break-glass access"),
    ({"approvers": "automatic"}, "cannot be combined with approvers: automatic"),
    ({"require_justification": False}, "needs require_justification"),
    ({"reminders": ["30m"]}, "use break_glass.review_reminders"),
    ({"break_glass": rules(broadcast={})}, "name a slack channel, a teams channel or both"),
    ({"break_glass": rules(broadcast={"slack": "#incidents"})}, "is not a Slack channel id"),
    ({"break_glass": rules(broadcast={"teams": "General"})}, "is not a Teams channel id"),
    ({"break_glass": rules(min_reason_length=3)}, "min_reason_length"),
    ({"break_glass": rules(max_uses_per_day=0)}, "max_uses_per_day"),
    ({"break_glass": rules(review_reminders=["1h", "1h"])}, "listed twice"),
    ({"break_glass": rules(review_reminders=["30d"])}, "later than 7d"),
    ({"break_glass": rules(review_reminders=["soon"])}, "is not a duration"),
    ({"break_glass": rules(broadcast_to="C0123ABCD")}, "broadcast_to"),
    ({"break_glass": {"min_reason_length": 20}}, "broadcast"),
]


@pytest.mark.parametrize(("changes", "message"), BAD, ids=[m for _, m in BAD])
def test_a_contradiction_is_refused_at_load(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(break_glass_config(**changes))
    assert message in str(raised.value), str(raised.value)
    assert "access_flows[1]" in str(raised.value)


def test_a_break_glass_flow_needs_integration_owners_to_review() -> None:
    config = break_glass_config()
    integration = config["integrations"][0]
    del integration["integration_owners"], integration["resource_owner"]
    with pytest.raises(ConfigError, match="has no integration_owners"):
        parse_config(config)
