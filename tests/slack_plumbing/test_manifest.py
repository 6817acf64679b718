"""``manifest.yml`` is importable as-is and agrees with ``bot/slack/ids.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack import ids, text
from core.config.schema import SlackConfig

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
TOP_LEVEL = {"_metadata", "display_information", "features", "oauth_config", "settings"}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_shape_and_slack_field_limits(manifest: dict[str, Any]) -> None:
    assert set(manifest) <= TOP_LEVEL
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35 and len(info["description"]) <= 140
    assert 174 <= len(info["long_description"]) <= 4000
    assert len(info["background_color"]) == 7 and info["background_color"].startswith("#")
    features = manifest["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }
    assert 1 <= len(features["bot_user"]["display_name"]) <= 80
    assert manifest["oauth_config"]["scopes"]["bot"] == [
        "commands",
        "chat:write",
        "im:write",
        "users:read",
        "users:read.email",
    ]
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_command_and_shortcut_match_the_ids(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == ids.COMMAND == SlackConfig.model_fields["command"].default
    assert command["should_escape"] is False
    assert len(command["description"]) <= 2000 and len(command["usage_hint"]) <= 1000
    (shortcut,) = manifest["features"]["shortcuts"]
    assert shortcut == {
        "name": "Request access",
        "type": "global",
        "callback_id": ids.REQUEST_ACCESS,
        "description": shortcut["description"],
    }
    assert len(shortcut["description"]) <= 150


def test_every_url_is_the_one_events_endpoint(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    urls = [
        manifest["features"]["slash_commands"][0]["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        settings["interactivity"]["message_menu_options_url"],
    ]
    assert {url.split("://", 1)[0] for url in urls} == {"https"}
    assert len(set(urls)) == 1 and urls[0].endswith(ids.EVENTS_PATH)


def test_ids_are_distinct_and_fit_slack() -> None:
    every = [*ids.ACTION_IDS, *ids.VIEW_CALLBACK_IDS, ids.REQUEST_ACCESS]
    assert len(every) == len(set(every))
    assert all(0 < len(i) <= text.MAX_ACTION_ID and i.isascii() for i in every)
