"""The Atlas fake keeps Atlas's contract (other suites rely on it): auth, versions, schemas,
rules, error bodies, storms, PENDING/APPLIED, expiry, and response shapes from the spec."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import (
    CLUSTER_NAME,
    ORG_ID,
    OTHER_PROJECT_ID,
    PRIVATE_KEY,
    PROJECT_ID,
    PUBLIC_KEY,
    FakeAtlas,
)
from tests.fakes.atlas_spec.contract import body_errors
from tests.fakes.atlas_spec.state import iso

V2023 = {"Accept": "application/vnd.atlas.2023-01-01+json"}
V2024 = {"Accept": "application/vnd.atlas.2024-08-05+json"}
V2025 = {"Accept": "application/vnd.atlas.2025-02-19+json"}
USERS = f"/api/atlas/v2/groups/{PROJECT_ID}/databaseUsers"


@pytest.fixture
async def raw(atlas: FakeAtlas) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=atlas.url, auth=httpx.DigestAuth(PUBLIC_KEY, PRIVATE_KEY)
    ) as client:
        yield client


def new_user(clock: FakeClock, **changes: Any) -> dict[str, Any]:
    user = {
        "username": "svc-reporting",
        "databaseName": "admin",
        "groupId": PROJECT_ID,
        "password": "a-long-random-password-123",
        "roles": [{"roleName": "read", "databaseName": "analytics"}],
        "scopes": [{"name": CLUSTER_NAME, "type": "CLUSTER"}],
        "deleteAfterDate": iso(clock.now() + timedelta(days=1)),
    }
    return {**user, **changes}


def without_nulls(value: Any) -> Any:
    """Atlas answers ``"mobileNumber": null`` where the spec does not say nullable."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == status and body["errorCode"] == code
    assert response.headers["X-Error-Code"] == code
    assert {"detail", "reason", "parameters"} <= set(body)
    return body


async def test_digest_challenge_matches_atlas_and_a_wrong_key_gets_401_twice(
    atlas: FakeAtlas,
) -> None:
    async with httpx.AsyncClient(base_url=atlas.url) as plain:
        challenge = await plain.get(f"/api/atlas/v2/groups/{PROJECT_ID}", headers=V2023)
    header = challenge.headers["WWW-Authenticate"]
    assert challenge.status_code == 401
    assert header.startswith('Digest realm="MMS Public API"')
    assert "algorithm=MD5" in header and 'qop="auth"' in header
    assert challenge.json()["errorCode"] == "UNEXPECTED_ERROR"

    async with httpx.AsyncClient(
        base_url=atlas.url, auth=httpx.DigestAuth(PUBLIC_KEY, "bad")
    ) as bad:
        response = await bad.get(f"/api/atlas/v2/groups/{PROJECT_ID}", headers=V2023)
    assert response.status_code == 401
    assert [r.status for r in atlas.calls(challenges=True)][-2:] == [401, 401]


async def test_missing_or_unknown_versions_get_406(raw: httpx.AsyncClient) -> None:
    missing = await raw.get(f"/api/atlas/v2/groups/{PROJECT_ID}", headers={"Accept": ""})
    wrong = await raw.get(
        f"/api/atlas/v2/groups/{PROJECT_ID}/clusters/{CLUSTER_NAME}",
        headers={"Accept": "application/vnd.atlas.2099-01-01+json"},
    )
    users_too_old = await raw.get(f"/api/atlas/v2/orgs/{ORG_ID}/users/x:addRole", headers=V2023)

    assert_error(missing, 406, "INVALID_ACCEPT_HEADER")
    assert_error(wrong, 406, "INVALID_ACCEPT_HEADER")
    assert users_too_old.status_code in (405, 406)


async def test_request_bodies_are_validated_against_the_spec(
    raw: httpx.AsyncClient, clock: FakeClock
) -> None:
    no_roles = new_user(clock)
    del no_roles["roles"]
    short = new_user(clock, password="short")
    bad_scope = new_user(clock, scopes=[{"name": "not a name!", "type": "CLUSTER"}])

    assert_error(await raw.post(USERS, json=no_roles, headers=V2023), 400, "MISSING_ATTRIBUTE")
    assert_error(await raw.post(USERS, json=short, headers=V2023), 400, "VALIDATION_ERROR")
    assert_error(await raw.post(USERS, json=bad_scope, headers=V2023), 400, "VALIDATION_ERROR")
    malformed = await raw.post(
        USERS, content=b"{", headers={**V2023, "Content-Type": "application/json"}
    )
    assert_error(malformed, 400, "MALFORMED_JSON")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        (
            {"roles": [{"roleName": "readAnyDatabase", "databaseName": "sales"}]},
            "ATLAS_INVALID_ROLE_DATABASE",
        ),
        (
            {
                "roles": [
                    {"roleName": "dbAdmin", "databaseName": "sales", "collectionName": "orders"}
                ]
            },
            "ATLAS_INVALID_ROLE",
        ),
        ({"roles": [{"roleName": "myCustomRole", "databaseName": "admin"}]}, "ATLAS_INVALID_ROLE"),
        ({"roles": []}, "MISSING_ATTRIBUTE"),
        (
            {
                "roles": [
                    {"roleName": "read", "databaseName": "a"},
                    {"roleName": "read", "databaseName": "a"},
                ]
            },
            "DUPLICATE_DATABASE_ROLES",
        ),
        ({"scopes": [{"name": "NoSuchCluster", "type": "CLUSTER"}]}, "INVALID_ATTRIBUTE"),
        ({"password": "password"}, "COMMON_PASSWORD"),
        ({"groupId": "111111111111111111111111"}, "GROUP_MISMATCH"),
    ],
)
async def test_atlas_rules_are_enforced_with_real_error_codes(
    raw: httpx.AsyncClient, clock: FakeClock, changes: dict[str, Any], code: str
) -> None:
    response = await raw.post(USERS, json=new_user(clock, **changes), headers=V2023)

    assert_error(response, 400, code)


async def test_delete_after_date_must_be_within_a_week_and_in_the_future(
    raw: httpx.AsyncClient, clock: FakeClock
) -> None:
    late = new_user(clock, deleteAfterDate=iso(clock.now() + timedelta(days=7, seconds=1)))
    past = new_user(clock, deleteAfterDate=iso(clock.now() - timedelta(seconds=1)))

    body = assert_error(
        await raw.post(USERS, json=late, headers=V2023), 400, "EXPIRATION_DATE_EXCEEDS_MAX"
    )
    assert body["parameters"] == [7]
    assert_error(await raw.post(USERS, json=past, headers=V2023), 400, "EXPIRATION_DATE_IN_PAST")


async def test_users_conflict_404_and_the_project_limit(
    raw: httpx.AsyncClient, atlas: FakeAtlas, clock: FakeClock
) -> None:
    assert (await raw.post(USERS, json=new_user(clock), headers=V2023)).status_code == 201
    assert_error(
        await raw.post(USERS, json=new_user(clock), headers=V2023), 409, "USER_ALREADY_EXISTS"
    )
    assert_error(await raw.get(f"{USERS}/admin/nobody", headers=V2023), 404, "USERNAME_NOT_FOUND")
    assert_error(
        await raw.delete(f"{USERS}/admin/nobody", headers=V2023), 404, "USERNAME_NOT_FOUND"
    )
    missing_group = await raw.get("/api/atlas/v2/groups/111111111111111111111111", headers=V2023)
    assert_error(missing_group, 404, "GROUP_NOT_FOUND")

    atlas.max_users_per_project = 1
    second = new_user(clock, username="svc-other")
    body = assert_error(
        await raw.post(USERS, json=second, headers=V2023), 403, "GROUP_USERS_LIMIT_EXCEEDED"
    )
    assert body["parameters"] == [1]


async def test_storms_answer_429_with_retry_after_then_recover(
    raw: httpx.AsyncClient, atlas: FakeAtlas
) -> None:
    atlas.fail_next(2, status=429, retry_after=5)
    atlas.fail_next(1, status=503, retry_after=None)
    path = f"/api/atlas/v2/groups/{PROJECT_ID}"

    answers = [await raw.get(path, headers=V2023) for _ in range(4)]

    assert [a.status_code for a in answers] == [429, 429, 503, 200]
    assert answers[0].headers["Retry-After"] == "5"
    assert answers[0].json()["errorCode"] == "RATE_LIMITED_TOKEN_BUCKET"


async def test_status_is_pending_after_a_change_then_applied(
    raw: httpx.AsyncClient, atlas: FakeAtlas, clock: FakeClock
) -> None:
    atlas.pending_polls = 2
    status_path = f"/api/atlas/v2/groups/{PROJECT_ID}/clusters/{CLUSTER_NAME}/status"
    assert (await raw.get(status_path, headers=V2023)).json()["changeStatus"] == "APPLIED"
    await raw.post(USERS, json=new_user(clock), headers=V2023)

    answers = [(await raw.get(status_path, headers=V2023)).json()["changeStatus"] for _ in range(3)]

    assert answers == ["PENDING", "PENDING", "APPLIED"]


async def test_users_are_deleted_once_their_delete_after_date_passes(
    raw: httpx.AsyncClient, atlas: FakeAtlas, clock: FakeClock
) -> None:
    await raw.post(USERS, json=new_user(clock), headers=V2023)
    clock.advance(timedelta(hours=23))
    assert (await raw.get(f"{USERS}/admin/svc-reporting", headers=V2023)).status_code == 200

    clock.advance(timedelta(hours=1))
    response = await raw.get(f"{USERS}/admin/svc-reporting", headers=V2023)

    assert_error(response, 404, "USERNAME_NOT_FOUND")
    assert atlas.users[PROJECT_ID] == {}


async def test_permanent_users_cannot_be_made_temporary(
    raw: httpx.AsyncClient, atlas: FakeAtlas, clock: FakeClock
) -> None:
    atlas.add_db_user("svc-permanent")
    body = new_user(clock, username="svc-permanent")
    del body["password"]

    response = await raw.patch(f"{USERS}/admin/svc-permanent", json=body, headers=V2023)

    assert_error(response, 400, "PERMANENT_ENTITY_CANNOT_BE_MADE_TEMPORARY")


CLUSTER = f"/api/atlas/v2/groups/{PROJECT_ID}/clusters/{CLUSTER_NAME}"


@pytest.mark.parametrize(
    ("path", "headers", "schema", "part"),
    [
        (USERS, V2023, "PaginatedApiAtlasDatabaseUserView", None),
        (f"/api/atlas/v2/groups/{PROJECT_ID}", V2023, "Group", None),
        # The recorded cluster itself is looser than the spec (nulls, undiscriminated oneOfs):
        # check the parts Gatepass reads.
        (CLUSTER, V2024, "ClusterConnectionStrings", "connectionStrings"),
        (f"/api/atlas/v2/groups/{PROJECT_ID}/processes", V2023, "PaginatedHostView_Atlas", None),
        (f"/api/atlas/v2/orgs/{ORG_ID}/groups", V2023, "PaginatedAtlasGroupView", None),
        (f"/api/atlas/v2/orgs/{ORG_ID}", V2023, "AtlasOrganization", None),
        (f"/api/atlas/v2/orgs/{ORG_ID}/users", V2025, "PaginatedOrgUserView", None),
        (f"/api/atlas/v2/groups/{PROJECT_ID}/users", V2025, "PaginatedGroupUserView", None),
    ],
)
async def test_answers_have_the_spec_shapes(
    raw: httpx.AsyncClient,
    clock: FakeClock,
    path: str,
    headers: dict[str, str],
    schema: str,
    part: str | None,
) -> None:
    await raw.post(USERS, json=new_user(clock), headers=V2023)

    response = await raw.get(path, headers=headers)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(headers["Accept"])
    body = without_nulls(response.json() if part is None else response.json()[part])
    assert [e.message for e in body_errors(f"#/components/schemas/{schema}", body)] == []


async def test_oauth_tokens_are_issued_for_service_accounts_only(atlas: FakeAtlas) -> None:
    async with httpx.AsyncClient(base_url=atlas.url) as plain:
        good = await plain.post(
            "/api/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(
                "mdb_sa_id_fake0000000001", "mdb_sa_sk_fake-secret-9f8e7d6c5b4a3f2e1d0c"
            ),
        )
        bad = await plain.post(
            "/api/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth("x", "y"),
        )
        token = good.json()["access_token"]
        used = await plain.get(
            f"/api/atlas/v2/groups/{PROJECT_ID}",
            headers={**V2023, "Authorization": f"Bearer {token}"},
        )

    assert good.json()["expires_in"] == 3600 and good.json()["token_type"] == "Bearer"
    assert bad.status_code == 401
    assert used.status_code == 200


async def test_people_rules_protect_the_last_owner_and_the_last_role(
    raw: httpx.AsyncClient, atlas: FakeAtlas
) -> None:
    owner = atlas.org_user("owner@example.com")
    member = atlas.add_org_user("bob@example.com", project_roles={PROJECT_ID: ("GROUP_READ_ONLY",)})
    org_users = f"/api/atlas/v2/orgs/{ORG_ID}/users"
    group_users = f"/api/atlas/v2/groups/{PROJECT_ID}/users"

    demote = await raw.post(
        f"{org_users}/{owner['id']}:removeRole", json={"orgRole": "ORG_OWNER"}, headers=V2025
    )
    delete = await raw.delete(f"{org_users}/{owner['id']}", headers=V2025)
    last_org_role = await raw.post(
        f"{org_users}/{member['id']}:removeRole", json={"orgRole": "ORG_MEMBER"}, headers=V2025
    )
    last_group_role = await raw.post(
        f"{group_users}/{member['id']}:removeRole",
        json={"groupRole": "GROUP_READ_ONLY"},
        headers=V2025,
    )
    not_in_group = await raw.post(
        f"/api/atlas/v2/groups/{OTHER_PROJECT_ID}/users/{member['id']}:addRole",
        json={"groupRole": "GROUP_READ_ONLY"},
        headers=V2025,
    )

    assert_error(demote, 403, "CANNOT_DEMOTE_LAST_ORG_OWNER")
    assert_error(delete, 403, "CANNOT_DELETE_LAST_ADMIN")
    assert_error(last_org_role, 400, "VALIDATION_ERROR")
    assert_error(last_group_role, 400, "VALIDATION_ERROR")
    assert_error(not_in_group, 404, "USER_NOT_IN_GROUP")


async def test_inviting_creates_a_pending_member_and_a_second_invite_conflicts(
    raw: httpx.AsyncClient, atlas: FakeAtlas
) -> None:
    body = {"username": "new@example.com", "roles": {"orgRoles": ["ORG_READ_ONLY"]}}
    org_users = f"/api/atlas/v2/orgs/{ORG_ID}/users"

    first = await raw.post(org_users, json=body, headers=V2025)
    second = await raw.post(org_users, json=body, headers=V2025)

    assert first.status_code == 201
    assert first.json()["orgMembershipStatus"] == "PENDING"
    assert {"invitationCreatedAt", "invitationExpiresAt", "inviterUsername"} <= set(first.json())
    assert atlas.invitations == ["new@example.com"]
    assert_error(second, 409, "USER_ALREADY_EXISTS")
