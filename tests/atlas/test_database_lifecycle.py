"""Revoking, rotating, refreshing and cleaning up database users; reconciler support; check()."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core.domain.ports import AccessGrant, ManagedAccess
from core.integrations.atlas.users import DISABLED_DATABASE, parse_atlas_time
from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import CLUSTER_NAME, PROJECT_ID, FakeAtlas

MakeGrant = Callable[..., AccessGrant]


def roles_of(atlas: FakeAtlas, username: str) -> list[tuple[str, str]]:
    return sorted(
        (r["roleName"], r["databaseName"]) for r in atlas.users[PROJECT_ID][username]["roles"]
    )


# --------------------------------------------------------------------------- revoke


async def test_revoking_one_grant_keeps_the_roles_of_the_other(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    short = make_grant("database", "analytics", "read", hours=1)
    long = make_grant("database", "sales", "readWrite", hours=8)
    created = await database.grant(short, active=[short], account=None)
    both = await database.grant(long, active=[short, long], account=created.account)

    result = await database.revoke(short, remaining=[long], account=both.account)

    username = created.account.username
    assert roles_of(atlas, username) == [("readWrite", "sales")]
    assert result.account is not None and result.account.username == username
    expiry = parse_atlas_time(atlas.users[PROJECT_ID][username]["deleteAfterDate"])
    assert expiry is not None and long.ends_at < expiry <= long.ends_at + timedelta(minutes=2)
    assert atlas.passwords[(PROJECT_ID, username)] == created.password.reveal()


async def test_revoking_a_grant_whose_role_another_still_covers_keeps_it(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    first = make_grant("database", "analytics", "read", hours=1)
    second = make_grant("database", "analytics", "read", hours=5)
    created = await database.grant(first, active=[first], account=None)
    await database.grant(second, active=[first, second], account=created.account)

    await database.revoke(first, remaining=[second], account=created.account)

    assert roles_of(atlas, created.account.username) == [("read", "analytics")]


async def test_the_last_revoke_deletes_the_user(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)

    result = await database.revoke(grant, remaining=[], account=created.account)

    assert result.account is None and result.cleanup_at is None
    assert atlas.users[PROJECT_ID] == {}


async def test_revoking_a_user_that_is_already_gone_succeeds(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)
    atlas.users[PROJECT_ID].clear()

    result = await database.revoke(grant, remaining=[], account=created.account)

    assert result.account is None
    assert atlas.calls("DELETE")[-1].status == 404


async def test_with_user_cleanup_days_the_user_is_disabled_then_cleaned_up(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(user_cleanup_days=3))
    grant = make_grant("database", "analytics", "readWrite")
    created = await database.grant(grant, active=[grant], account=None)
    username = created.account.username

    result = await database.revoke(grant, remaining=[], account=created.account)

    assert result.cleanup_at == clock.now() + timedelta(days=3)
    assert result.account is not None and result.account.extra["disabled"] is True
    assert roles_of(atlas, username) == [("read", DISABLED_DATABASE)]
    assert atlas.passwords[(PROJECT_ID, username)] != created.password.reveal()
    expiry = parse_atlas_time(atlas.users[PROJECT_ID][username]["deleteAfterDate"])
    assert expiry == result.cleanup_at

    clock.advance(timedelta(days=2))
    await database.cleanup(grant.person, account=result.account)

    assert username not in atlas.users[PROJECT_ID]


async def test_a_disabled_user_granted_again_gets_a_new_password_and_survives_cleanup(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant
) -> None:
    database = integrations(db_config(user_cleanup_days=3))
    first = make_grant("database", "analytics", "read")
    created = await database.grant(first, active=[first], account=None)
    disabled = await database.revoke(first, remaining=[], account=created.account)
    second = make_grant("database", "sales", "read")

    again = await database.grant(second, active=[second], account=disabled.account)
    await database.cleanup(second.person, account=disabled.account)

    username = created.account.username
    assert again.password is not None
    assert atlas.passwords[(PROJECT_ID, username)] == again.password.reveal()
    assert roles_of(atlas, username) == [("read", "sales")]


async def test_disabled_users_are_capped_at_atlas_one_week_limit(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(user_cleanup_days=30))
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)

    result = await database.revoke(grant, remaining=[], account=created.account)

    expiry = parse_atlas_time(atlas.users[PROJECT_ID][created.account.username]["deleteAfterDate"])
    assert result.cleanup_at == clock.now() + timedelta(days=30)
    assert expiry is not None and expiry < clock.now() + timedelta(days=7)


# --------------------------------------------------------------------------- rotation, refresh


async def test_rotation_changes_the_password_at_the_next_grant(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(credential_rotation_days=7))
    first = make_grant("database", "analytics", "read", hours=1)
    created = await database.grant(first, active=[first], account=None)
    clock.advance(timedelta(days=8))
    second = make_grant("database", "analytics", "read", hours=1)

    result = await database.grant(second, active=[second], account=created.account)

    username = created.account.username
    assert result.password is not None and result.password != created.password
    assert atlas.passwords[(PROJECT_ID, username)] == result.password.reveal()
    assert result.account.password_set_at == clock.now()


async def test_refresh_rotates_a_due_password_during_a_long_grant(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(credential_rotation_days=2))
    grant = make_grant("database", "analytics", "read", hours=24 * 5)
    created = await database.grant(grant, active=[grant], account=None)

    clock.advance(timedelta(days=1))
    assert await database.refresh(grant.person, active=[grant], account=created.account) is None

    clock.advance(timedelta(days=2))
    result = await database.refresh(grant.person, active=[grant], account=created.account)

    assert result is not None and result.password is not None
    assert result.ready is False
    assert atlas.passwords[(PROJECT_ID, created.account.username)] == result.password.reveal()


async def test_refresh_pushes_delete_after_date_forward_while_a_long_grant_runs(
    database, atlas: FakeAtlas, make_grant: MakeGrant, clock: FakeClock
) -> None:
    grant = make_grant("database", "analytics", "read", hours=24 * 20)
    created = await database.grant(grant, active=[grant], account=None)
    username = created.account.username
    before = parse_atlas_time(atlas.users[PROJECT_ID][username]["deleteAfterDate"])

    clock.advance(timedelta(days=5))
    result = await database.refresh(grant.person, active=[grant], account=created.account)

    after = parse_atlas_time(atlas.users[PROJECT_ID][username]["deleteAfterDate"])
    assert before is not None and after is not None
    assert after - before == timedelta(days=5)
    assert result is not None and result.password is None and result.ready is True
    assert (
        result.account.extra["delete_after"] == atlas.users[PROJECT_ID][username]["deleteAfterDate"]
    )


async def test_refresh_recreates_a_user_that_vanished_during_a_grant(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    grant = make_grant("database", "analytics", "read", hours=6)
    created = await database.grant(grant, active=[grant], account=None)
    atlas.users[PROJECT_ID].clear()

    result = await database.refresh(grant.person, active=[grant], account=created.account)

    assert result is not None and result.password is not None
    assert roles_of(atlas, created.account.username) == [("read", "analytics")]


# --------------------------------------------------------------------------- reconciler


async def test_list_managed_finds_only_this_integrations_users(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_db_user("app-service")
    atlas.add_db_user(
        "gp-other-00000000",
        labels=[
            {"key": "managed-by", "value": "gatepass"},
            {"key": "gatepass-integration", "value": "other"},
        ],
    )
    atlas.add_db_user(
        "gp-mallory-12345678",
        labels=[
            {"key": "managed-by", "value": "gatepass"},
            {"key": "gatepass-integration", "value": "prod-atlas"},
            {"key": "gatepass-person", "value": "alice@example.com"},
        ],
    )
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)

    managed = await database.list_managed()

    by_name = {item.username: item for item in managed}
    assert set(by_name) == {created.account.username, "gp-mallory-12345678"}
    assert by_name[created.account.username].person == "alice@example.com"
    assert "read@analytics" in by_name[created.account.username].detail
    assert by_name["gp-mallory-12345678"].person is None  # label does not match the name


async def test_remove_managed_deletes_a_gatepass_user_but_never_another(
    database, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_db_user("app-service")
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)
    (managed,) = await database.list_managed()

    await database.remove_managed(managed)
    with pytest.raises(Exception, match="Gatepass does not manage it"):
        await database.remove_managed(ManagedAccess(person=None, username="app-service"))

    assert set(atlas.users[PROJECT_ID]) == {"app-service"}
    assert created.account.username not in atlas.users[PROJECT_ID]


# --------------------------------------------------------------------------- check()


async def test_check_passes_with_good_credentials(database) -> None:
    await database.check()


async def test_check_names_a_missing_project(integrations, db_config) -> None:
    database = integrations(db_config(project_id="111111111111111111111111"))

    with pytest.raises(Exception, match="project 111111111111111111111111 not found"):
        await database.check()


async def test_check_names_a_missing_cluster(integrations, db_config) -> None:
    database = integrations(db_config(cluster_name="Nope"))

    with pytest.raises(Exception, match=f"cluster Nope not found in project {PROJECT_ID}"):
        await database.check()


async def test_check_with_a_wrong_key_says_atlas_rejected_the_api_key(
    integrations, db_config, atlas: FakeAtlas
) -> None:
    from core.config.secrets import SecretValue

    database = integrations(
        db_config(),
        {"public_key": SecretValue("gpfakepublickey"), "private_key": SecretValue("wrong")},
    )

    with pytest.raises(Exception, match="Atlas rejected the API key for integration prod-atlas"):
        await database.check()

    assert [r.status for r in atlas.calls(challenges=True)] == [401, 401]
    assert CLUSTER_NAME  # the seeded cluster was never reached
