"""The ``webhooks:`` section: strict, with clear errors, and refused by check-config when a URL
is not https (plain http only to loopback, only with allow_insecure_loopback)."""

from __future__ import annotations

from typing import Any

import pytest

from core.config.schema import ConfigError, parse_config
from core.config.settings import resolve_settings
from tests.cli.conftest import Cli
from tests.support.domain import config_with
from tests.webhooks.conftest import webhook

LOOPBACK = "http://127.0.0.1:8080/hook"
WHERE = "webhooks[0] (siem)"


def problems(**changes: Any) -> list[str]:
    hook = webhook(LOOPBACK) | changes
    for key, value in list(hook.items()):
        if value is None:
            del hook[key]
    with pytest.raises(ConfigError) as raised:
        parse_config(config_with(webhooks=[hook]))
    return raised.value.problems


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"url": "http://siem.example.com/hook"},
            f"{WHERE}.url: 'http://siem.example.com/hook' is plain http: webhooks are sent over "
            "https only",
        ),
        (
            {"allow_insecure_loopback": None},
            f"{WHERE}.url: '{LOOPBACK}' is plain http: to a loopback address this needs "
            "allow_insecure_loopback: true",
        ),
        (
            {"url": "http://10.0.0.8/hook"},
            f"{WHERE}.url: 'http://10.0.0.8/hook' is plain http",
        ),
        ({"url": "ftp://siem.example.com/x"}, f"{WHERE}.url: 'ftp://siem.example.com/x' is not"),
        ({"url": "https://"}, f"{WHERE}.url: 'https://' is not an https URL"),
        (
            {"url": "https://user:hunter2@siem.example.com/"},
            f"{WHERE}.url: must not hold a user name or password",
        ),
        (
            {"events": ["RequestCreated", "RequestAproved"]},
            f"{WHERE}.events: 'RequestAproved' is not a webhook event; did you mean "
            "'RequestApproved'?",
        ),
        (
            {"events": ["requestrevoked"]},
            f"{WHERE}.events: 'requestrevoked' is not a webhook event; did you mean "
            "'RequestRevoked'?",
        ),
        ({"events": ["BreakGlass"]}, "did you mean 'BreakGlassUsed'?"),
        ({"events": []}, f"{WHERE}.events: Tuple should have at least 1 item"),
        ({"secret": None}, f"{WHERE}.secret: is required"),
        ({"secret": "whsec_plaintext"}, f"{WHERE}.secret: is not a secret reference"),
        ({"timeout": "5m"}, f"{WHERE}.timeout: must be more than 0s and at most 60s"),
        ({"retries": 3}, f"{WHERE}.retries: unknown key"),
    ],
)
def test_each_mistake_is_named_by_its_key(changes: dict[str, Any], expected: str) -> None:
    found = problems(**changes)
    assert any(expected in problem for problem in found), found


def test_a_plaintext_secret_is_never_echoed() -> None:
    assert not any("whsec_plaintext" in p for p in problems(secret="whsec_plaintext"))


def test_names_are_unique() -> None:
    hook = webhook("https://siem.example.com/hook")
    with pytest.raises(ConfigError) as raised:
        parse_config(config_with(webhooks=[hook, dict(hook)]))
    assert raised.value.problems == ["webhooks: the webhook name 'siem' is used twice"]


def test_https_anywhere_and_http_to_loopback_when_allowed() -> None:
    parsed = parse_config(
        config_with(
            webhooks=[
                webhook("https://siem.example.com/hook", allow_insecure_loopback=False),
                webhook("http://localhost:9000/hook", name="dev"),
                webhook("http://[::1]:9000/hook", name="dev6"),
            ]
        )
    )
    assert [h.name for h in parsed.webhooks] == ["siem", "dev", "dev6"]


def test_a_missing_secret_leaves_the_webhook_without_one_and_is_named() -> None:
    parsed = parse_config(config_with(webhooks=[webhook(LOOPBACK)]))
    settings = resolve_settings(parsed, config_path="gatepass.yml", environ={})
    assert settings.webhook_secrets == {}
    assert [u.describe() for u in settings.unavailable if u.component.startswith("webhook")] == [
        "webhook siem: variable SIEM_WEBHOOK_SECRET not set"
    ]


def _with_webhook(cli: Cli, url: str, **changes: Any) -> Any:
    from tests.cli.conftest import example_data
    from tests.cli.test_check_config import with_secret_file

    data = with_secret_file(example_data(), cli)
    data["webhooks"] = [webhook(url, **changes)]
    return cli.write(data)


def test_check_config_refuses_plain_http_to_another_host(cli: Cli) -> None:
    cli.env = dict(cli.env, SIEM_WEBHOOK_SECRET="whsec-1")
    result = cli("check-config", config=_with_webhook(cli, "http://siem.example.com/gatepass"))
    assert result.exit_code == 1
    assert (
        "webhooks[0] (siem).url: 'http://siem.example.com/gatepass' is plain http: webhooks are "
        "sent over https only" in result.output
    )


def test_check_config_names_a_missing_webhook_secret(cli: Cli) -> None:
    result = cli("check-config", config=_with_webhook(cli, "https://siem.example.com/gatepass"))
    assert result.exit_code == 1
    assert "webhook siem: variable SIEM_WEBHOOK_SECRET not set" in result.output


def test_check_config_passes_an_https_webhook(cli: Cli) -> None:
    cli.env = dict(cli.env, SIEM_WEBHOOK_SECRET="whsec-1")
    result = cli("check-config", config=_with_webhook(cli, "https://siem.example.com/gatepass"))
    assert result.exit_code == 0, result.output
    assert "webhooks: siem" in result.output
    assert "whsec-1" not in result.output
