"""What the first SCIM tests left out: paging, excludedAttributes, the other filter operators,
the token in no log line, the owners told of a leaver, and refusals at start."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.platform import configured_status
from bot.scim.install import install
from core.config.schema import parse_config
from core.config.settings import resolve_settings
from core.domain.messages import OwnerAlert
from core.runtime import build_context
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.scim.harness import GROUP, PATCH, TOKEN, okta_user, running, scim_config
from tests.support.domain import BASE_CONFIG

PEOPLE = [
    ("ann@example.com", "Ann Lee"),
    ("ben@example.com", "Ben Ode"),
    ("cat@example.org", "Cat Ray"),
    ("dan@example.com", "Dan Wu"),
    ("eve@example.org", "Eve Fox"),
]


async def _provision_all(app: Any) -> dict[str, str]:
    ids = {}
    for email, name in PEOPLE:
        body = okta_user(email, name, external_id=f"x-{email}", department=name.split()[0])
        if email == "eve@example.org":
            body.pop("externalId")
        status, user, _ = await app.call("POST", "/Users", body)
        assert status == 201, user
        ids[email] = user["id"]
    return ids


def _names(listed: dict[str, Any]) -> list[str]:
    return sorted(r["userName"] for r in listed["Resources"])


async def _pages_hold_everyone_once(app: Any) -> None:
    everyone = sorted(e for e, _ in PEOPLE)
    pages = []
    for start in (1, 3, 5):
        status, page, _ = await app.call("GET", f"/Users?startIndex={start}&count=2")
        assert status == 200, page
        assert page["totalResults"] == 5 and page["startIndex"] == start
        assert page["itemsPerPage"] == len(page["Resources"])
        pages += [r["userName"] for r in page["Resources"]]
    assert sorted(pages) == everyone and len(pages) == 5  # each once
    status, empty, _ = await app.call("GET", "/Users?startIndex=6&count=2")
    assert empty["totalResults"] == 5 and empty["Resources"] == []
    status, counted, _ = await app.call("GET", "/Users?count=0")
    assert counted["totalResults"] == 5 and counted["Resources"] == []


async def _excluded_attributes_are_left_out(app: Any, ids: dict[str, str]) -> None:
    status, slim, _ = await app.call(
        "GET", f"/Users/{ids['ann@example.com']}?excludedAttributes=emails,name"
    )
    assert status == 200 and "emails" not in slim and "name" not in slim
    assert slim["userName"] == "ann@example.com" and slim["id"]
    status, listed, _ = await app.call("GET", "/Users?excludedAttributes=emails")
    assert all("emails" not in r and "userName" in r for r in listed["Resources"])


async def _the_other_filter_operators_select(app: Any) -> None:
    everyone = sorted(e for e, _ in PEOPLE)

    async def where(expression: str) -> list[str]:
        status, found, _ = await app.call("GET", f"/Users?filter={expression}")
        assert status == 200, found
        assert found["totalResults"] == len(found["Resources"])
        return _names(found)

    assert await where('userName ne "ann@example.com"') == everyone[1:]
    assert await where('userName co "example.org"') == ["cat@example.org", "eve@example.org"]
    assert await where('userName sw "d"') == ["dan@example.com"]
    assert await where("externalId pr") == [e for e in everyone if e != "eve@example.org"]
    assert await where('userName eq "ann@example.com" or userName sw "b"') == [
        "ann@example.com",
        "ben@example.com",
    ]
    assert await where('not (userName co "example.com")') == [
        "cat@example.org",
        "eve@example.org",
    ]


async def _changes_and_a_wrong_token(app: Any, ids: dict[str, str]) -> None:
    status, group, _ = await app.call(
        "POST",
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": "dba",
            "members": [{"value": ids["ann@example.com"]}],
        },
    )
    assert status == 201, group
    status, _, _ = await app.call(
        "PATCH",
        f"/Users/{ids['ben@example.com']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert status == 200
    status, _, _ = await app.call("DELETE", f"/Users/{ids['dan@example.com']}")
    assert status == 204
    status, _, _ = await app.call(
        "GET", "/Users", **{"Authorization": "Bearer wrong-token-0123456789abcdef"}
    )
    assert status == 401


async def test_paging_filters_and_excluded_attributes(
    sqlite_url: str, encryption_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(sqlite_url, encryption_key) as app:
        ids = await _provision_all(app)
        await _pages_hold_everyone_once(app)
        await _excluded_attributes_are_left_out(app, ids)
        await _the_other_filter_operators_select(app)
        await _changes_and_a_wrong_token(app, ids)
    assert caplog.records, "the sequence logged something"
    leaked = [r.getMessage() for r in caplog.records if TOKEN in r.getMessage()]
    assert leaked == []
    assert TOKEN not in caplog.text


async def test_the_owners_are_told_of_a_leaver(sqlite_url: str, encryption_key: str) -> None:
    async with running(sqlite_url, encryption_key) as app:
        status, alice, _ = await app.call(
            "POST", "/Users", okta_user("alice@example.com", "Alice Doe", external_id="a1")
        )
        assert status == 201
        status, _, _ = await app.call(
            "POST",
            "/Groups",
            {"schemas": [GROUP], "displayName": "data-eng", "members": [{"value": alice["id"]}]},
        )
        assert status == 201
        draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "x")
        pending = await requests.submit(
            app.gatepass.ctx, requester="alice@example.com", draft=draft, platform="slack"
        )
        await app.run_jobs()
        status, _, _ = await app.call("DELETE", f"/Users/{alice['id']}")
        assert status == 204
        await app.run_jobs()
        await app.run_jobs()
        alerts = app.chat.to("carol@example.com", OwnerAlert)  # Carol: integration owner (dba)
        assert [(a.request.id, a.problem) for a in alerts] == [
            (
                pending.id,
                "alice@example.com was deleted in the identity provider: "
                "their pending request was cancelled.",
            )
        ]


async def test_a_contradiction_refuses_to_start_in_one_line(
    sqlite_url: str, encryption_key: str
) -> None:
    async with running(sqlite_url, encryption_key) as app:
        status, _, _ = await app.call(
            "POST", "/Users", okta_user("erin@example.com", "Erin Fox", external_id="e1")
        )
        assert status == 201
        config = scim_config(sqlite_url)
        config["directory"]["users"].append({"email": "Erin@Example.com", "name": "Erin Fox"})
        settings = resolve_settings(
            parse_config(config),
            config_path="gatepass.yml",
            environ={"KEY": encryption_key, "GATEPASS_SCIM_TOKEN": TOKEN},
        )
        ctx = build_context(settings, integrations={})
        try:
            parts = install(settings, ctx)
            assert parts.prepare is not None
            with pytest.raises(SystemExit) as refused:
                await parts.prepare()
        finally:
            await ctx.store.close()
        message = refused.value.code
        assert isinstance(message, str)  # printed alone on stderr, exit status 1, no traceback
        assert "\n" not in message
        assert message.startswith("gatepass cannot start: erin@example.com is listed in")
        assert "gatepass.yml" in message


def test_the_not_configured_hint_names_directory_scim() -> None:
    settings = resolve_settings(parse_config(BASE_CONFIG), config_path="gatepass.yml", environ={})
    assert configured_status(settings, "scim") == (
        "not configured (add a directory.scim section (its token) to gatepass.yml)"
    )
    assert install(settings, None).status == configured_status(settings, "scim")  # type: ignore[arg-type]


def test_a_configured_scim_without_its_token_is_left_out() -> None:
    config = scim_config("sqlite+aiosqlite:///unused.db")
    settings = resolve_settings(
        parse_config(config), config_path="gatepass.yml", environ={"KEY": "k"}
    )
    status = configured_status(settings, "scim")
    assert status.startswith("left out: ") and "GATEPASS_SCIM_TOKEN" in status
