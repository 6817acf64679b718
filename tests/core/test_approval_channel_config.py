"""A flow's ``notify_approvers`` and ``approval_channel``: checked strictly when the config
loads, each bad value with an error naming the key and what to write instead."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from core.config.schema import ConfigError, parse_config
from tests.support.domain import BASE_CONFIG

SLACK = {"bot_token": "env:SLACK_BOT_TOKEN", "signing_secret": "env:SLACK_SIGNING_SECRET"}
TEAMS = {"app_id": "env:TEAMS_APP_ID", "app_password": "env:TEAMS_APP_PASSWORD"}
WHERE = "access_flows[0] (analytics-read)"


def config(*, platforms: tuple[str, ...] = ("slack", "teams"), **flow: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_CONFIG)
    data["access_flows"][0].update(flow)
    if "slack" in platforms:
        data["slack"] = SLACK
    if "teams" in platforms:
        data["teams"] = TEAMS
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    return raised.value.problems


def test_dm_is_the_default() -> None:
    flow = parse_config(config()).access_flows[0]
    assert flow.notify_approvers == "dm" and flow.approval_channel is None


@pytest.mark.parametrize("notify", ["channel", "both"])
def test_a_channel_for_each_platform(notify: str) -> None:
    channel = {"slack": "C0DBACCESS1", "teams": "19:abc-DEF_123@thread.tacv2"}
    flow = parse_config(config(notify_approvers=notify, approval_channel=channel)).access_flows[0]
    assert flow.notify_approvers == notify
    assert flow.approval_channel is not None
    assert flow.approval_channel.for_platform("slack") == "C0DBACCESS1"
    assert flow.approval_channel.for_platform("teams") == "19:abc-DEF_123@thread.tacv2"
    assert flow.approval_channel.for_platform("cli") is None


def test_one_platform_is_enough_when_it_is_configured() -> None:
    data = config(
        platforms=("slack",), notify_approvers="channel", approval_channel={"slack": "G01ABCDEFGH"}
    )
    assert parse_config(data).access_flows[0].approval_channel is not None


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        ({"notify_approvers": "channel"}, f"{WHERE}: notify_approvers: channel needs an approval"),
        ({"notify_approvers": "both"}, f"{WHERE}: notify_approvers: both needs an approval"),
        (
            {"approval_channel": {"slack": "C0DBACCESS1"}},
            f"{WHERE}: approval_channel is used only with notify_approvers: channel or both",
        ),
        ({"notify_approvers": "everyone"}, f"{WHERE}.notify_approvers: Input should be 'dm'"),
        (
            {"notify_approvers": "channel", "approval_channel": {}},
            f"{WHERE}.approval_channel: name a channel for at least one platform",
        ),
        (
            {"notify_approvers": "channel", "approval_channel": {"slack": "#db-access"}},
            f"{WHERE}.approval_channel.slack: '#db-access' is not a Slack channel id",
        ),
        (
            {"notify_approvers": "channel", "approval_channel": {"slack": "D0ALICE123"}},
            f"{WHERE}.approval_channel.slack: 'D0ALICE123' is not a Slack channel id",
        ),
        (
            {"notify_approvers": "both", "approval_channel": {"teams": "General"}},
            f"{WHERE}.approval_channel.teams: 'General' is not a Teams channel id",
        ),
        (
            {"notify_approvers": "both", "approval_channel": {"teams": "19:x@thread.v2"}},
            f"{WHERE}.approval_channel.teams: '19:x@thread.v2' is not a Teams channel id",
        ),
        (
            {"notify_approvers": "both", "approval_channel": {"discord": "123"}},
            f"{WHERE}.approval_channel.discord: unknown key",
        ),
        (
            {
                "notify_approvers": "channel",
                "approval_channel": {"slack": "C0DBACCESS1"},
                "approvers": "automatic",
            },
            f"{WHERE}: notify_approvers has no meaning with approvers: automatic",
        ),
    ],
)
def test_bad_channel_settings_are_refused(flow: dict[str, Any], expected: str) -> None:
    found = problems(config(**flow))
    assert any(p.startswith(expected) for p in found), found


def test_the_channel_must_be_on_a_configured_platform() -> None:
    data = config(
        platforms=("slack",),
        notify_approvers="channel",
        approval_channel={"teams": "19:abc@thread.tacv2"},
    )
    [problem] = problems(data)
    assert problem.startswith(
        f"{WHERE}.approval_channel: names no channel on a configured chat platform "
        "(configured: slack)"
    ), problem


def test_no_platform_at_all_is_refused_too() -> None:
    data = config(platforms=(), notify_approvers="both", approval_channel={"slack": "C0DBACCESS1"})
    [problem] = problems(data)
    assert "(configured: none)" in problem, problem
