"""The Portal reconciler against the Atlas fake: a membership Gatepass created that no grant
covers is removed by the next reconcile, even when a crash lost everything but Gatepass's
record of it; a membership Gatepass did not create is reported and left."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.ports import AccessGrant, IntegrationError, ManagedAccess, ResourceRef
from core.jobs.reconciling import reconcile_integration
from core.storage.membership_models import AtlasMembership
from core.storage.models import AuditEvent
from tests.fakes.atlas import ORG_ID, PROJECT_ID, FakeAtlas
from tests.support.clock import ManualClock
from tests.system.portal_app import (
    ALICE,
    CAROL,
    PORTAL,
    granted,
    portal_settings,
    start_portal,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


@pytest.fixture
async def app(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, encryption_key: str
) -> AsyncIterator[Any]:
    started, _chat = await start_portal(portal_settings(atlas, sqlite_url, encryption_key), clock)
    yield started
    await started.ctx.store.close()


def project_grant(person: str, clock: ManualClock, role: str = "GROUP_READ_ONLY") -> AccessGrant:
    return AccessGrant(
        grant_id="Rcrashed001",
        person=person,
        resource=ResourceRef("project", "Sales", PROJECT_ID),
        permission=role,
        ends_at=clock.now() + timedelta(hours=1),
    )


async def audit(app: Any, action: str) -> list[dict[str, Any]]:
    async with app.ctx.store.reading() as session:
        rows = await session.execute(sa.select(AuditEvent).where(AuditEvent.action == action))
        return [event.detail for event in rows.scalars()]


async def recorded(app: Any) -> list[tuple[str, str, bool]]:
    async with app.ctx.store.reading() as session:
        rows = (await session.execute(sa.select(AtlasMembership))).scalars().all()
    return sorted((row.person, row.scope, row.created) for row in rows)


async def test_an_invitation_no_grant_covers_is_removed(app: Any, atlas: FakeAtlas, clock) -> None:
    """The grant job invited Alice, then died before core recorded anything of it."""
    portal = app.ctx.integrations[PORTAL]
    result = await portal.grant(project_grant(ALICE, clock), active=[], account=None)
    assert result.invited and atlas.org_user(ALICE) is not None
    assert await recorded(app) == [(ALICE, "org", True)]

    removed = await reconcile_integration(app.ctx, PORTAL)

    assert removed == [ALICE]
    assert atlas.org_user(ALICE) is None
    assert atlas.calls("DELETE", f"/orgs/{ORG_ID}/users/")
    (event,) = await audit(app, "reconcile.removed")
    assert event["username"] == ALICE and "invitation Gatepass sent" in event["why"]
    assert await recorded(app) == []
    assert await reconcile_integration(app.ctx, PORTAL) == []  # nothing left to do


async def test_an_accepted_invitation_is_still_gatepass_s_own(
    app: Any, atlas: FakeAtlas, clock
) -> None:
    portal = app.ctx.integrations[PORTAL]
    await portal.grant(project_grant(ALICE, clock), active=[], account=None)
    accepted = atlas.accept_invitation(ALICE)  # now listed under her own user id

    assert await reconcile_integration(app.ctx, PORTAL) == [ALICE]
    assert atlas.calls("DELETE", f"/orgs/{ORG_ID}/users/{accepted['id']}")
    assert atlas.org_user(ALICE) is None


async def test_a_membership_gatepass_did_not_create_is_reported_and_left(
    app: Any, atlas: FakeAtlas, clock
) -> None:
    atlas.add_org_user(CAROL, org_roles=("ORG_MEMBER",))
    portal = app.ctx.integrations[PORTAL]
    await portal.grant(project_grant(CAROL, clock), active=[], account=None)
    assert await recorded(app) == [(CAROL, PROJECT_ID, True), (CAROL, "org", False)]
    # Someone else moves Carol into the project for good: the project is no longer Gatepass's.
    await portal.revoke(project_grant(CAROL, clock), remaining=[], account=None)
    atlas.org_user(CAROL)["roles"]["groupRoleAssignments"] = [
        {"groupId": PROJECT_ID, "groupRoles": ["GROUP_OWNER"]}
    ]
    await portal.grant(
        project_grant(CAROL, clock, "GROUP_CLUSTER_MANAGER"), active=[], account=None
    )
    assert await recorded(app) == [(CAROL, "org", False)]

    removed = await reconcile_integration(app.ctx, PORTAL)

    assert removed == []
    member = atlas.org_user(CAROL)
    assert member is not None and member["orgMembershipStatus"] == "ACTIVE"
    assert not atlas.calls("DELETE", f"/orgs/{ORG_ID}/users/")
    (event,) = await audit(app, "reconcile.reported")
    assert event["username"] == CAROL and "did not create" in event["why"]
    with pytest.raises(IntegrationError, match="Gatepass did not create it"):
        await portal.remove_managed(ManagedAccess(person=CAROL, username=CAROL))


async def test_a_project_gatepass_joined_a_member_to_is_removed_but_the_membership_kept(
    app: Any, atlas: FakeAtlas, clock
) -> None:
    atlas.add_org_user(CAROL, org_roles=("ORG_MEMBER",))
    portal = app.ctx.integrations[PORTAL]
    await portal.grant(project_grant(CAROL, clock), active=[], account=None)

    assert await reconcile_integration(app.ctx, PORTAL) == [CAROL]

    member = atlas.org_user(CAROL)
    assert member is not None and member["roles"]["groupRoleAssignments"] == []
    assert member["roles"]["orgRoles"] == ["ORG_MEMBER"]


async def test_a_replaced_invitation_is_reported_not_removed(
    app: Any, atlas: FakeAtlas, clock
) -> None:
    portal = app.ctx.integrations[PORTAL]
    await portal.grant(project_grant(ALICE, clock), active=[], account=None)
    # An administrator withdraws Gatepass's invitation and sends one of their own.
    del atlas.org_users[ORG_ID][atlas.org_user(ALICE)["id"]]
    clock.advance(minutes=10)
    atlas.add_org_user(ALICE, org_roles=("ORG_READ_ONLY",), status="PENDING")

    assert await reconcile_integration(app.ctx, PORTAL) == []

    assert atlas.org_user(ALICE) is not None
    (event,) = await audit(app, "reconcile.reported")
    assert "replaced" in event["why"]


async def test_a_crash_between_the_invitation_and_its_record_keeps_it_gatepass_s(
    app: Any, atlas: FakeAtlas, clock
) -> None:
    """The grant job's retry finds the invitation its first run sent: Gatepass created it,
    nothing of it predates Gatepass, so its revoke removes the whole membership."""
    portal = app.ctx.integrations[PORTAL]
    grant = project_grant(ALICE, clock)
    await portal.grant(grant, active=[grant], account=None)

    again = await portal.grant(grant, active=[grant], account=None)  # core recorded nothing

    assert again.account.created_by_gatepass is True
    assert again.account.extra["pre_existing"] == {"org": [], "projects": {}}
    assert len(atlas.invitations) == 1
    gone = await portal.revoke(grant, remaining=[], account=again.account)
    assert gone.account is None and atlas.org_user(ALICE) is None


async def test_a_live_grant_covers_its_invitation(app: Any, atlas: FakeAtlas) -> None:
    await granted(app)

    assert await reconcile_integration(app.ctx, PORTAL) == []
    assert atlas.org_user(ALICE) is not None
    assert await audit(app, "reconcile.reported") == []


async def test_an_unknown_project_role_is_refused_by_atlas_and_nothing_recorded(
    app: Any, atlas: FakeAtlas, clock
) -> None:
    """Atlas's own answer to a role it does not know (config load refuses it first)."""
    portal = app.ctx.integrations[PORTAL]
    grant = project_grant(ALICE, clock, "GROUP_READ_ONLY")
    forged = AccessGrant(grant.grant_id, ALICE, grant.resource, "GROUP_REED_ONLY", grant.ends_at)
    with pytest.raises(IntegrationError, match="cannot be granted"):
        await portal.grant(forged, active=[forged], account=None)
    assert atlas.invitations == [] and await recorded(app) == []
