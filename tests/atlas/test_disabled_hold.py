"""``hold``: a disabled user (``user_cleanup_days``) keeps a ``deleteAfterDate`` pushed towards
its cleanup, so Atlas's one-week cap never deletes it early."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from core.domain.ports import AccessGrant, KeepsDisabledAccounts
from core.integrations.atlas.users import DISABLED_DATABASE, parse_atlas_time
from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import PROJECT_ID, FakeAtlas

MakeGrant = Callable[..., AccessGrant]


async def test_hold_pushes_the_date_towards_the_cleanup_and_stops_there(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(user_cleanup_days=20))
    assert isinstance(database, KeepsDisabledAccounts)
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)
    revoked = await database.revoke(grant, remaining=[], account=created.account)
    username, account = created.account.username, revoked.account
    cleanup_at = revoked.cleanup_at

    for _day in range(19):
        clock.advance(timedelta(days=1))
        account = await database.hold(grant.person, account=account) or account
        user = atlas.users[PROJECT_ID][username]  # still there: never past its date
        assert [r["databaseName"] for r in user["roles"]] == [DISABLED_DATABASE]
        expiry = parse_atlas_time(user["deleteAfterDate"])
        assert expiry is not None and expiry <= cleanup_at
        assert expiry - clock.now() >= min(timedelta(days=5), cleanup_at - clock.now())

    assert parse_atlas_time(atlas.users[PROJECT_ID][username]["deleteAfterDate"]) == cleanup_at
    patches = len(atlas.calls("PATCH"))
    assert await database.hold(grant.person, account=account) is None
    assert len(atlas.calls("PATCH")) == patches  # nothing left to push: no call


async def test_hold_sends_nothing_within_a_day_of_the_last_push(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(user_cleanup_days=30))
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)
    revoked = await database.revoke(grant, remaining=[], account=created.account)
    patches = len(atlas.calls("PATCH"))

    clock.advance(timedelta(hours=6))

    assert await database.hold(grant.person, account=revoked.account) is None
    assert len(atlas.calls("PATCH")) == patches


async def test_hold_leaves_an_account_granted_again_alone(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(user_cleanup_days=30))
    first = make_grant("database", "analytics", "read")
    created = await database.grant(first, active=[first], account=None)
    revoked = await database.revoke(first, remaining=[], account=created.account)
    second = make_grant("database", "sales", "read")
    again = await database.grant(second, active=[second], account=revoked.account)
    clock.advance(timedelta(days=2))
    patches = len(atlas.calls("PATCH"))

    assert await database.hold(second.person, account=again.account) is None
    assert len(atlas.calls("PATCH")) == patches


async def test_hold_of_a_user_deleted_meanwhile_changes_nothing(
    atlas: FakeAtlas, integrations, db_config, make_grant: MakeGrant, clock: FakeClock
) -> None:
    database = integrations(db_config(user_cleanup_days=30))
    grant = make_grant("database", "analytics", "read")
    created = await database.grant(grant, active=[grant], account=None)
    revoked = await database.revoke(grant, remaining=[], account=created.account)
    del atlas.users[PROJECT_ID][created.account.username]
    clock.advance(timedelta(days=2))

    assert await database.hold(grant.person, account=revoked.account) is None
    assert created.account.username not in atlas.users[PROJECT_ID]  # never made again
