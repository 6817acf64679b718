"""No password, private key, client secret or bearer token ever reaches a log record, at any
level, from our code or the libraries under it (httpx, httpcore, aiohttp)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest

from core.config.secrets import SecretValue
from core.domain.ports import AccessGrant, IntegrationError
from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import CLIENT_SECRET, PRIVATE_KEY, PROJECT_ID, FakeAtlas

MakeGrant = Callable[..., AccessGrant]


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), repr(record.__dict__)]
    return "\n".join(parts)


@pytest.mark.parametrize("credential", ["api_key", "service_account"])
async def test_a_full_cycle_logs_no_secret(
    atlas: FakeAtlas,
    integrations,
    db_config,
    make_grant: MakeGrant,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    credential: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = atlas.api_key() if credential == "api_key" else atlas.service_account()
    database = integrations(db_config(credential_rotation_days=1, user_cleanup_days=2), secret)
    first = make_grant("database", "analytics", "read", hours=48)
    second = make_grant("collection", "sales.orders", "readWrite", hours=4)
    passwords: list[str] = []

    atlas.fail_next(1, status=429, retry_after=0)
    created = await database.grant(first, active=[first], account=None)
    passwords.append(created.password.reveal())
    both = await database.grant(second, active=[first, second], account=created.account)
    await database.ready(second, account=both.account)
    clock.advance(timedelta(days=1, minutes=1))
    rotated = await database.refresh(first.person, active=[first, second], account=both.account)
    assert rotated is not None and rotated.password is not None
    passwords.append(rotated.password.reveal())
    await database.revoke(second, remaining=[first], account=rotated.account)
    disabled = await database.revoke(first, remaining=[], account=rotated.account)
    passwords.append(atlas.passwords[(PROJECT_ID, created.account.username)])
    await database.cleanup(first.person, account=disabled.account)
    await database.discover()
    await database.list_managed()

    secrets = [PRIVATE_KEY, CLIENT_SECRET, *passwords, *atlas.tokens]
    assert len(set(passwords)) == 3
    if credential == "service_account":
        assert atlas.tokens
    text = logged_text(caplog)
    assert caplog.records, "the cycle should have logged something at DEBUG"
    for secret_value in secrets:
        assert secret_value not in text


async def test_auth_failures_log_and_say_no_secret(
    integrations, db_config, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_key = "wrong-private-key-0123456789"
    wrong_secret = "wrong-client-secret-0123456789"
    by_key = integrations(
        db_config(),
        {"public_key": SecretValue("gpfakepublickey"), "private_key": SecretValue(wrong_key)},
    )
    by_account = integrations(
        db_config(),
        {
            "client_id": SecretValue("mdb_sa_id_fake0000000001"),
            "client_secret": SecretValue(wrong_secret),
        },
    )
    messages = []
    for integration in (by_key, by_account):
        with pytest.raises(IntegrationError) as raised:
            await integration.check()
        messages.append(str(raised.value))

    text = logged_text(caplog) + "\n".join(messages)
    assert wrong_key not in text and wrong_secret not in text
    assert "gpfakepublickey" not in "\n".join(messages)
