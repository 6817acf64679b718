"""Collection grants as Atlas roles: exactly ``{roleName, databaseName, collectionName}``
(split at the first dot: a collection name may hold dots, a database name never does), merged
with the person's other grants; a name MongoDB refuses, or a role Atlas has no collection form
of, is refused before anything reaches Atlas; and the fake refuses what Atlas refuses."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from core.domain.ports import AccessGrant, IntegrationError
from core.integrations.atlas.grants import collection_role
from tests.fakes.atlas import PRIVATE_KEY, PROJECT_ID, PUBLIC_KEY, FakeAtlas

MakeGrant = Callable[..., AccessGrant]


def users_calls(atlas: FakeAtlas) -> list[str]:
    return [r.method for r in atlas.requests if "/databaseUsers" in r.path]


def test_a_collection_role_names_the_database_and_the_collection() -> None:
    assert collection_role("analytics.events.2026", "readWrite") == {
        "roleName": "readWrite",
        "databaseName": "analytics",
        "collectionName": "events.2026",
    }


async def test_a_collection_grant_merges_with_a_database_grant_on_the_same_user(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    on_collection = make_grant("collection", "analytics.events", "readWrite")
    on_database = make_grant("database", "analytics", "read")
    created = await database.grant(on_collection, active=[on_collection], account=None)
    await database.grant(on_database, active=[on_collection, on_database], account=created.account)

    user = atlas.users[PROJECT_ID][created.account.username]
    assert sorted(user["roles"], key=str) == sorted(
        [
            {"roleName": "readWrite", "databaseName": "analytics", "collectionName": "events"},
            {"roleName": "read", "databaseName": "analytics"},
        ],
        key=str,
    )
    # Revoking the database grant keeps exactly the collection's role.
    await database.revoke(on_database, remaining=[on_collection], account=created.account)
    assert atlas.users[PROJECT_ID][created.account.username]["roles"] == [
        {"roleName": "readWrite", "databaseName": "analytics", "collectionName": "events"}
    ]


@pytest.mark.parametrize(
    ("name", "permission", "message"),
    [
        ("analytics.system.users", "read", "belong to MongoDB itself"),
        ("analytics.ev$ents", "read", r"cannot contain \$"),
        ("analytics.", "read", "not named database.collection"),
        ("analytics.events", "dbAdmin", "cannot be granted on a collection"),
    ],
)
async def test_a_collection_atlas_would_refuse_is_never_sent(
    database, atlas: FakeAtlas, make_grant: MakeGrant, name: str, permission: str, message: str
) -> None:
    grant = make_grant("collection", name, permission)
    with pytest.raises(IntegrationError, match=message):
        await database.grant(grant, active=[grant], account=None)
    assert users_calls(atlas) == [] and atlas.users[PROJECT_ID] == {}


@pytest.mark.parametrize("role", ["dbAdmin", "readAnyDatabase", "clusterMonitor"])
async def test_the_fake_refuses_a_collection_with_any_other_role_like_atlas(
    atlas: FakeAtlas, role: str
) -> None:
    database = "admin" if role != "dbAdmin" else "sales"
    body = {
        "username": "gp-someone",
        "databaseName": "admin",
        "groupId": PROJECT_ID,
        "password": "a-long-enough-password",
        "roles": [{"roleName": role, "databaseName": database, "collectionName": "orders"}],
    }
    auth = httpx.DigestAuth(PUBLIC_KEY, PRIVATE_KEY)
    async with httpx.AsyncClient(base_url=atlas.url + "/api/atlas/v2", auth=auth) as client:
        answer = await client.post(
            f"/groups/{PROJECT_ID}/databaseUsers",
            json=body,
            headers={"Accept": "application/vnd.atlas.2023-01-01+json"},
        )
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "ATLAS_INVALID_ROLE"
    assert atlas.users[PROJECT_ID] == {}
