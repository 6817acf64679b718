"""The Atlas client at the wire: auth (Digest, OAuth2), pinned versions, retries, pagination,
percent-encoding, and the errors it raises."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from core.config.secrets import SecretValue
from core.domain.ports import AccessGrant, IntegrationError
from core.integrations.atlas import (
    AtlasAuthError,
    AtlasClient,
    AtlasNotFound,
    AtlasUnavailable,
    RetryPolicy,
    Version,
)
from core.integrations.atlas.client import retry_after_seconds, segment
from tests.atlas.conftest import FakeClock, Sleeps
from tests.fakes.atlas import CLUSTER_NAME, PROJECT_ID, FakeAtlas

MakeGrant = Callable[..., AccessGrant]


def client_for(atlas: FakeAtlas, clock: FakeClock, retry: RetryPolicy, **options) -> AtlasClient:
    secret = options.pop("secret", None) or atlas.api_key()
    return AtlasClient.from_secret(
        atlas_url=atlas.url,
        secret=secret,
        integration="prod-atlas",
        clock=clock,
        retry=retry,
        **options,
    )


# --------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_storm_is_retried_and_the_call_succeeds(
    database, atlas: FakeAtlas, make_grant: MakeGrant, sleeps: Sleeps, status: int
) -> None:
    atlas.fail_next(3, status=status, retry_after=0)
    grant = make_grant("database", "analytics", "read")

    result = await database.grant(grant, active=[grant], account=None)

    assert result.account.username in atlas.users[PROJECT_ID]
    assert [r.status for r in atlas.calls()][:4] == [status] * 3 + [201]
    assert len(sleeps.delays) == 3
    assert sleeps.delays[0] < sleeps.delays[1] < sleeps.delays[2]  # exponential backoff


async def test_retry_after_is_waited_at_least(
    atlas: FakeAtlas, clock: FakeClock, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    atlas.fail_next(1, status=429, retry_after=3)
    client = client_for(atlas, clock, retry)

    await client.get(f"/groups/{PROJECT_ID}", version=Version.GROUPS)
    await client.aclose()

    assert len(sleeps.delays) == 1 and sleeps.delays[0] >= 3


async def test_a_long_retry_after_is_handed_to_the_job_worker(
    database, atlas: FakeAtlas, make_grant: MakeGrant, sleeps: Sleeps
) -> None:
    atlas.fail_next(1, status=429, retry_after=60)
    grant = make_grant("database", "analytics", "read")

    with pytest.raises(IntegrationError) as raised:
        await database.grant(grant, active=[grant], account=None)

    error = raised.value
    assert error.retryable is True
    assert error.retry_after is not None and error.retry_after >= 60
    assert "RATE_LIMITED_TOKEN_BUCKET" in str(error)
    assert sleeps.delays == []  # nothing slept inline


async def test_a_storm_longer_than_the_attempts_gives_up_retryably(
    atlas: FakeAtlas, clock: FakeClock, retry: RetryPolicy
) -> None:
    atlas.fail_next(10, status=503, retry_after=None)
    client = client_for(atlas, clock, retry)

    with pytest.raises(AtlasUnavailable) as raised:
        await client.get(f"/groups/{PROJECT_ID}", version=Version.GROUPS)
    await client.aclose()

    assert raised.value.retryable is True and raised.value.retry_after is not None
    assert len(atlas.calls()) == retry.attempts


async def test_an_unreachable_atlas_is_a_retryable_error(
    clock: FakeClock, retry: RetryPolicy
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = AtlasClient.from_secret(
        atlas_url=f"http://127.0.0.1:{port}",
        secret={"public_key": SecretValue("p"), "private_key": SecretValue("k")},
        integration="prod-atlas",
        clock=clock,
        retry=retry,
    )

    with pytest.raises(AtlasUnavailable, match="cannot reach Atlas") as raised:
        await client.get(f"/groups/{PROJECT_ID}", version=Version.GROUPS)
    await client.aclose()

    assert raised.value.retryable is True


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    def response(**headers: str) -> httpx.Response:
        return httpx.Response(429, headers=headers)

    assert retry_after_seconds(response(**{"Retry-After": "7"})) == 7
    assert retry_after_seconds(response()) is None
    dated = response(
        **{"Retry-After": "Mon, 02 Mar 2026 09:00:30 GMT", "Date": "Mon, 02 Mar 2026 09:00:00 GMT"}
    )
    assert retry_after_seconds(dated) == 30


# --------------------------------------------------------------------------- auth


async def test_a_wrong_private_key_gives_a_clear_error(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant
) -> None:
    bad = {"public_key": SecretValue("gpfakepublickey"), "private_key": SecretValue("nope")}
    database = integrations(db_config(), bad)
    grant = make_grant("database", "analytics", "read")

    with pytest.raises(
        AtlasAuthError, match="Atlas rejected the API key for integration prod-atlas"
    ):
        await database.grant(grant, active=[grant], account=None)

    assert atlas.users[PROJECT_ID] == {}


async def test_service_account_tokens_are_used_cached_and_refreshed(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(), atlas.service_account())
    grant = make_grant("database", "analytics", "read")

    await database.check()
    await database.grant(grant, active=[grant], account=None)
    assert atlas.tokens_issued == 1
    bearer = [r for r in atlas.calls() if r.path.startswith("/api/atlas")]
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in bearer)

    clock.advance(timedelta(minutes=56))  # within the refresh margin of the one-hour token
    await database.ready(grant, account=None)  # type: ignore[arg-type]

    assert atlas.tokens_issued == 2
    token_calls = atlas.calls("POST", "/api/oauth/token")
    assert all(r.headers["Authorization"].startswith("Basic ") for r in token_calls)
    assert token_calls[0].body == "grant_type=client_credentials"


async def test_a_bearer_token_atlas_rejects_is_replaced_once(
    atlas: FakeAtlas, integrations, db_config
) -> None:
    database = integrations(db_config(), atlas.service_account())
    await database.check()
    atlas.tokens.clear()  # Atlas forgot every token (revoked, restarted ...)

    await database.check()

    assert atlas.tokens_issued == 2


async def test_a_wrong_client_secret_gives_a_clear_error(integrations, db_config) -> None:
    bad = {"client_id": SecretValue("mdb_sa_id_fake0000000001"), "client_secret": SecretValue("x")}
    database = integrations(db_config(), bad)

    with pytest.raises(AtlasAuthError, match="Atlas rejected the service account for integration"):
        await database.check()


# --------------------------------------------------------------------------- versions, paths, pages


async def test_each_endpoint_is_called_with_its_pinned_version(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    grant = make_grant("database", "analytics", "read")
    result = await database.grant(grant, active=[grant], account=None)
    await database.ready(grant, account=result.account)

    accepts = {(r.method, r.path.split("/")[-1]): r.headers["Accept"] for r in atlas.calls()}
    assert accepts[("POST", "databaseUsers")] == "application/vnd.atlas.2023-01-01+json"
    assert accepts[("GET", CLUSTER_NAME)] == "application/vnd.atlas.2024-08-05+json"
    assert accepts[("GET", "status")] == "application/vnd.atlas.2023-01-01+json"


async def test_pagination_follows_next_links(
    atlas: FakeAtlas, clock: FakeClock, retry: RetryPolicy
) -> None:
    for index in range(7):
        atlas.add_db_user(f"service-{index}")
    client = client_for(atlas, clock, retry, page_size=3)

    users = [
        u
        async for u in client.paginate(
            f"/groups/{PROJECT_ID}/databaseUsers", version=Version.DATABASE_USERS
        )
    ]
    await client.aclose()

    assert sorted(u["username"] for u in users) == [f"service-{i}" for i in range(7)]
    pages = atlas.calls("GET", "/databaseUsers")
    assert [r.query.get("pageNum") for r in pages] == ["1", "2", "3"]


async def test_odd_usernames_are_percent_encoded_as_one_path_segment(
    database, atlas: FakeAtlas
) -> None:
    odd = "d0123456789abcdef012345d/user 998?x=1#frag"
    atlas.add_db_user(
        odd,
        labels=[
            {"key": "managed-by", "value": "gatepass"},
            {"key": "gatepass-integration", "value": "prod-atlas"},
        ],
    )
    (managed,) = await database.list_managed()

    await database.remove_managed(managed)

    deleted = atlas.calls("DELETE")[-1]
    assert deleted.path.endswith(
        "/databaseUsers/admin/d0123456789abcdef012345d%2Fuser%20998%3Fx%3D1%23frag"
    )
    assert deleted.status == 204
    assert odd not in atlas.users[PROJECT_ID]
    assert segment("a/b c") == "a%2Fb%20c"


async def test_errors_carry_atlas_error_code_and_detail(
    atlas: FakeAtlas, clock: FakeClock, retry: RetryPolicy
) -> None:
    client = client_for(atlas, clock, retry)

    with pytest.raises(AtlasNotFound) as raised:
        await client.get(
            f"/groups/{PROJECT_ID}/databaseUsers/admin/nobody", version=Version.DATABASE_USERS
        )
    await client.aclose()

    error = raised.value
    assert error.status == 404 and error.error_code == "USERNAME_NOT_FOUND"
    assert error.detail == "No user with username nobody exists."
    assert "prod-atlas" in str(error) and error.retryable is False
