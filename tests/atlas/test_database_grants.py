"""Granting database access: one Atlas user per person, scoped to the one cluster, with exactly
the union of the person's grants, a deleteAfterDate within a week, and a fresh password."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core.domain.ports import AccessGrant, AccessMissing, AccountState, IntegrationError
from core.integrations.atlas import username_for
from core.integrations.atlas.users import parse_atlas_time
from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import CLUSTER_NAME, PROJECT_ID, FakeAtlas

MakeGrant = Callable[..., AccessGrant]


def roles_of(atlas: FakeAtlas, username: str) -> list[tuple[str, str, str]]:
    user = atlas.users[PROJECT_ID][username]
    return sorted(
        (r["roleName"], r["databaseName"], r.get("collectionName", "")) for r in user["roles"]
    )


async def test_grant_creates_a_scoped_user_with_exactly_the_granted_role(
    database, atlas: FakeAtlas, make_grant: MakeGrant, clock: FakeClock
) -> None:
    grant = make_grant("database", "analytics", "read", hours=4)

    result = await database.grant(grant, active=[grant], account=None)

    username = result.account.username
    assert username == username_for("alice@example.com", integration="prod-atlas")
    assert username.startswith("gp-alice-")
    user = atlas.users[PROJECT_ID][username]
    assert user["databaseName"] == "admin"
    assert user["scopes"] == [{"name": CLUSTER_NAME, "type": "CLUSTER"}]
    assert roles_of(atlas, username) == [("read", "analytics", "")]
    assert {"key": "managed-by", "value": "gatepass"} in user["labels"]
    expiry = parse_atlas_time(user["deleteAfterDate"])
    assert expiry is not None
    assert grant.ends_at < expiry <= grant.ends_at + timedelta(minutes=2)
    assert expiry < clock.now() + timedelta(days=7)
    assert result.password is not None
    assert atlas.passwords[(PROJECT_ID, username)] == result.password.reveal()
    assert len(result.password.reveal()) >= 24
    assert result.ready is False
    assert result.account.password_set_at == clock.now()
    assert result.account.created_by_gatepass is True


async def test_connection_details_name_the_srv_string_user_and_custom_details(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    grant = make_grant("database", "sales", "readWrite")

    result = await database.grant(grant, active=[grant], account=None)

    cluster = atlas.clusters[PROJECT_ID][CLUSTER_NAME]
    details = result.connection
    assert details.connection_string == cluster["connectionStrings"]["standardSrv"]
    assert details.username == result.account.username
    assert details.custom_access_details == "Connect from the office VPN."


async def test_second_overlapping_grant_unions_roles_without_a_new_password(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    first = make_grant("database", "analytics", "read", hours=2)
    second = make_grant("collection", "sales.orders", "readWrite", hours=6)
    third = make_grant("cluster", CLUSTER_NAME, "clusterMonitor", hours=1)
    created = await database.grant(first, active=[first], account=None)

    again = await database.grant(second, active=[first, second], account=created.account)
    third_result = await database.grant(third, active=[first, second, third], account=again.account)

    username = created.account.username
    assert roles_of(atlas, username) == [
        ("clusterMonitor", "admin", ""),
        ("read", "analytics", ""),
        ("readWrite", "sales", "orders"),
    ]
    assert again.password is None and third_result.password is None
    expiry = parse_atlas_time(atlas.users[PROJECT_ID][username]["deleteAfterDate"])
    assert expiry is not None and expiry >= second.ends_at
    assert len(atlas.users[PROJECT_ID]) == 1


async def test_every_cluster_level_role_lands_on_the_admin_database(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    roles = ["readAnyDatabase", "readWriteAnyDatabase", "dbAdminAnyDatabase", "atlasAdmin"]
    grants = [make_grant("cluster", CLUSTER_NAME, role) for role in roles]
    grants.append(make_grant("database", "sales", "dbAdmin"))

    result = await database.grant(grants[-1], active=grants, account=None)

    assert roles_of(atlas, result.account.username) == sorted(
        [(role, "admin", "") for role in roles] + [("dbAdmin", "sales", "")]
    )


async def test_delete_after_date_is_capped_below_a_week(
    database, atlas: FakeAtlas, make_grant: MakeGrant, clock: FakeClock
) -> None:
    grant = make_grant("database", "analytics", "read", hours=24 * 30)

    result = await database.grant(grant, active=[grant], account=None)

    expiry = parse_atlas_time(atlas.users[PROJECT_ID][result.account.username]["deleteAfterDate"])
    assert expiry is not None
    assert clock.now() + timedelta(days=6) < expiry < clock.now() + timedelta(days=7)


async def test_ready_flips_from_pending_to_applied(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.pending_polls = 2
    grant = make_grant("database", "analytics", "read")
    result = await database.grant(grant, active=[grant], account=None)

    assert await database.ready(grant, account=result.account) is False
    assert await database.ready(grant, account=result.account) is False
    assert await database.ready(grant, account=result.account) is True


async def test_ready_reports_a_user_gone_meanwhile(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.pending_polls = 0
    grant = make_grant("database", "analytics", "read")
    result = await database.grant(grant, active=[grant], account=None)
    del atlas.users[PROJECT_ID][result.account.username]

    with pytest.raises(AccessMissing, match="is gone"):
        await database.ready(grant, account=result.account)


async def test_private_endpoint_connection_string_is_chosen_when_configured(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant
) -> None:
    atlas.add_cluster(
        "Private0",
        private_endpoints=[
            ("vpce-0aaa", "mongodb+srv://private0-pl-0.abcd.mongo.fake"),
            ("vpce-0bbb", "mongodb+srv://private0-pl-1.abcd.mongo.fake"),
        ],
    )
    database = integrations(db_config(cluster_name="Private0", private_endpoint_id="vpce-0bbb"))
    grant = make_grant("database", "analytics", "read")

    result = await database.grant(grant, active=[grant], account=None)

    assert result.connection.connection_string == "mongodb+srv://private0-pl-1.abcd.mongo.fake"
    assert result.connection.notes == ()


async def test_unknown_private_endpoint_falls_back_to_the_public_string_with_a_note(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant
) -> None:
    database = integrations(db_config(private_endpoint_id="vpce-missing"))
    grant = make_grant("database", "analytics", "read")

    result = await database.grant(grant, active=[grant], account=None)

    standard = atlas.clusters[PROJECT_ID][CLUSTER_NAME]["connectionStrings"]["standardSrv"]
    assert result.connection.connection_string == standard
    assert "vpce-missing" in result.connection.notes[0]


async def test_conflict_on_create_adopts_the_gatepass_user_and_resets_it(
    database, atlas: FakeAtlas, make_grant: MakeGrant, clock: FakeClock
) -> None:
    grant = make_grant("database", "analytics", "read")
    username = username_for(grant.person, integration="prod-atlas")
    atlas.add_db_user(
        username,
        roles=[{"roleName": "readWriteAnyDatabase", "databaseName": "admin"}],
        labels=[
            {"key": "managed-by", "value": "gatepass"},
            {"key": "gatepass-integration", "value": "prod-atlas"},
        ],
        delete_after="2026-03-03T09:00:00Z",
    )

    result = await database.grant(grant, active=[grant], account=None)

    assert [r.method for r in atlas.calls(contains="/databaseUsers")][:3] == [
        "POST",
        "GET",
        "PATCH",
    ]
    assert roles_of(atlas, username) == [("read", "analytics", "")]
    assert result.password is not None
    assert atlas.passwords[(PROJECT_ID, username)] == result.password.reveal()


async def test_conflict_with_a_user_gatepass_does_not_manage_is_refused(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    grant = make_grant("database", "analytics", "read")
    username = username_for(grant.person, integration="prod-atlas")
    atlas.add_db_user(username)

    with pytest.raises(IntegrationError, match="Gatepass does not manage it"):
        await database.grant(grant, active=[grant], account=None)

    assert roles_of(atlas, username) == [("readAnyDatabase", "admin", "")]


async def test_a_user_atlas_expired_is_created_again_with_a_new_password(
    database, atlas: FakeAtlas, make_grant: MakeGrant, clock: FakeClock
) -> None:
    first = make_grant("database", "analytics", "read", hours=1)
    created = await database.grant(first, active=[first], account=None)
    clock.advance(timedelta(hours=2))  # past deleteAfterDate: the fake deletes the user
    second = make_grant("database", "sales", "read", hours=1)

    result = await database.grant(second, active=[second], account=created.account)

    assert roles_of(atlas, created.account.username) == [("read", "sales", "")]
    assert result.password is not None and result.password != created.password


async def test_a_permission_that_does_not_fit_the_resource_is_refused(
    database, make_grant: MakeGrant
) -> None:
    grant = make_grant("collection", "sales.orders", "dbAdmin")

    with pytest.raises(IntegrationError, match="cannot be granted on a collection"):
        await database.grant(grant, active=[grant], account=None)


async def test_the_project_user_limit_surfaces_as_an_error(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.max_users_per_project = 1
    first = make_grant("database", "analytics", "read", person="alice@example.com")
    second = make_grant("database", "analytics", "read", person="bob@example.com")
    await database.grant(first, active=[first], account=None)

    with pytest.raises(IntegrationError, match="GROUP_USERS_LIMIT_EXCEEDED"):
        await database.grant(second, active=[second], account=None)


async def test_usernames_are_deterministic_and_distinct(make_grant: MakeGrant) -> None:
    alice = username_for("Alice.Doe+jit@Example.com", integration="prod-atlas")

    assert alice == username_for("alice.doe+jit@example.com", integration="prod-atlas")
    assert alice.startswith("gp-alice-doe-jit-")
    assert alice != username_for("alice.doe+jit@example.org", integration="prod-atlas")
    assert alice != username_for("alice.doe+jit@example.com", integration="other")


async def test_account_state_never_holds_the_password(database, make_grant: MakeGrant) -> None:
    grant = make_grant("database", "analytics", "read")

    result = await database.grant(grant, active=[grant], account=None)

    assert result.password is not None
    assert result.password.reveal() not in repr(result.account)
    assert isinstance(result.account, AccountState)
