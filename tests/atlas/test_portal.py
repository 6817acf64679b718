"""Atlas UI access: organization and project roles through the 2025-02-19 users endpoints,
keeping what the person held before Gatepass and never removing the last owner."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.domain.ports import AccessGrant, IntegrationError, ManagedAccess
from tests.fakes.atlas import ORG_ID, OTHER_PROJECT_ID, OWNER_EMAIL, PROJECT_ID, FakeAtlas

MakeGrant = Callable[..., AccessGrant]
ALICE = "alice@example.com"


def org_roles(atlas: FakeAtlas, username: str = ALICE) -> list[str]:
    user = atlas.org_user(username)
    assert user is not None
    return sorted(user["roles"]["orgRoles"])


def project_roles(atlas: FakeAtlas, project: str, username: str = ALICE) -> list[str] | None:
    user = atlas.org_user(username)
    assert user is not None
    for item in user["roles"]["groupRoleAssignments"]:
        if item["groupId"] == project:
            return sorted(item["groupRoles"])
    return None


def org_grant(make_grant: MakeGrant, role: str, **kw) -> AccessGrant:
    return make_grant("organization", "Gatepass-Test-Org", role, external_id=ORG_ID, **kw)


def project_grant(make_grant: MakeGrant, role: str, project: str = PROJECT_ID, **kw) -> AccessGrant:
    name = "Sales" if project == PROJECT_ID else "Analytics"
    return make_grant("project", name, role, external_id=project, **kw)


async def test_org_role_grant_and_revoke_keep_the_pre_existing_membership(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_org_user(
        ALICE, org_roles=("ORG_MEMBER",), project_roles={PROJECT_ID: ("GROUP_READ_ONLY",)}
    )
    grant = org_grant(make_grant, "ORG_BILLING_READ_ONLY")

    result = await portal.grant(grant, active=[grant], account=None)

    assert org_roles(atlas) == ["ORG_BILLING_READ_ONLY", "ORG_MEMBER"]
    assert result.account.created_by_gatepass is False
    assert result.account.extra["pre_existing"] == {
        "org": ["ORG_MEMBER"],
        "projects": {PROJECT_ID: ["GROUP_READ_ONLY"]},
    }
    assert result.ready is True and result.connection.username == ALICE
    assert atlas.calls("POST", ":addRole")[0].body == {"orgRole": "ORG_BILLING_READ_ONLY"}

    revoked = await portal.revoke(grant, remaining=[], account=result.account)

    assert revoked.account is not None
    assert org_roles(atlas) == ["ORG_MEMBER"]
    assert project_roles(atlas, PROJECT_ID) == ["GROUP_READ_ONLY"]


async def test_project_roles_are_added_and_removed_keeping_pre_existing_ones(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_org_user(ALICE, project_roles={PROJECT_ID: ("GROUP_READ_ONLY",)})
    owner = project_grant(make_grant, "GROUP_CLUSTER_MANAGER")
    already = project_grant(make_grant, "GROUP_READ_ONLY")
    elsewhere = project_grant(make_grant, "GROUP_DATA_ACCESS_READ_ONLY", OTHER_PROJECT_ID)

    first = await portal.grant(owner, active=[owner], account=None)
    second = await portal.grant(already, active=[owner, already], account=first.account)
    third = await portal.grant(
        elsewhere, active=[owner, already, elsewhere], account=second.account
    )

    assert project_roles(atlas, PROJECT_ID) == ["GROUP_CLUSTER_MANAGER", "GROUP_READ_ONLY"]
    assert project_roles(atlas, OTHER_PROJECT_ID) == ["GROUP_DATA_ACCESS_READ_ONLY"]
    joined = atlas.calls("POST", f"/groups/{OTHER_PROJECT_ID}/users")[0]
    assert joined.body == {"username": ALICE, "roles": ["GROUP_DATA_ACCESS_READ_ONLY"]}
    assert third.connection.connection_string.endswith(f"/v2/{OTHER_PROJECT_ID}#/overview")

    await portal.revoke(already, remaining=[owner, elsewhere], account=third.account)
    assert project_roles(atlas, PROJECT_ID) == ["GROUP_CLUSTER_MANAGER", "GROUP_READ_ONLY"]

    await portal.revoke(owner, remaining=[elsewhere], account=third.account)
    assert project_roles(atlas, PROJECT_ID) == ["GROUP_READ_ONLY"]

    await portal.revoke(elsewhere, remaining=[], account=third.account)
    assert project_roles(atlas, OTHER_PROJECT_ID) is None  # left the project it joined
    assert org_roles(atlas) == ["ORG_MEMBER"]  # the membership Gatepass did not create stays


async def test_a_role_another_active_grant_covers_is_kept_at_revoke(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_org_user(ALICE)
    first = org_grant(make_grant, "ORG_READ_ONLY", hours=1)
    second = org_grant(make_grant, "ORG_READ_ONLY", hours=8)
    created = await portal.grant(first, active=[first], account=None)
    await portal.grant(second, active=[first, second], account=created.account)

    await portal.revoke(first, remaining=[second], account=created.account)

    assert org_roles(atlas) == ["ORG_MEMBER", "ORG_READ_ONLY"]


async def test_an_absent_person_is_invited_and_the_invitation_removed_at_revoke(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    grant = project_grant(make_grant, "GROUP_READ_ONLY")

    result = await portal.grant(grant, active=[grant], account=None)

    invite = atlas.calls("POST", f"/orgs/{ORG_ID}/users")[0]
    assert invite.body == {
        "username": ALICE,
        "roles": {
            "orgRoles": ["ORG_MEMBER"],
            "groupRoleAssignments": [{"groupId": PROJECT_ID, "groupRoles": ["GROUP_READ_ONLY"]}],
        },
    }
    assert invite.headers["Accept"] == "application/vnd.atlas.2025-02-19+json"
    assert atlas.invitations == [ALICE]
    assert result.account.created_by_gatepass is True
    assert result.invited is True and result.ready is False  # not usable until accepted
    assert any("before this access ends" in note for note in result.connection.notes)
    assert not any("30 days" in note for note in result.connection.notes)
    assert atlas.org_user(ALICE)["orgMembershipStatus"] == "PENDING"

    revoked = await portal.revoke(grant, remaining=[], account=result.account)

    assert revoked.account is None
    assert atlas.org_user(ALICE) is None


async def test_a_created_membership_survives_while_another_grant_runs(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    org = org_grant(make_grant, "ORG_READ_ONLY")
    project = project_grant(make_grant, "GROUP_READ_ONLY")
    created = await portal.grant(org, active=[org], account=None)
    both = await portal.grant(project, active=[org, project], account=created.account)

    await portal.revoke(org, remaining=[project], account=both.account)

    assert org_roles(atlas) == ["ORG_MEMBER"]  # a member keeps one organization role
    assert project_roles(atlas, PROJECT_ID) == ["GROUP_READ_ONLY"]

    gone = await portal.revoke(project, remaining=[], account=both.account)
    assert gone.account is None and atlas.org_user(ALICE) is None


async def test_the_last_org_owner_is_never_removed(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    owner = atlas.org_user(OWNER_EMAIL)
    owner["roles"]["orgRoles"] = ["ORG_MEMBER"]  # the seeded owner steps down
    atlas.add_org_user(ALICE)
    grant = org_grant(make_grant, "ORG_OWNER")
    result = await portal.grant(grant, active=[grant], account=None)

    with pytest.raises(IntegrationError, match="last owner"):
        await portal.revoke(grant, remaining=[], account=result.account)

    assert "ORG_OWNER" in org_roles(atlas)


async def test_org_owner_is_removed_when_another_owner_remains(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_org_user(ALICE)
    grant = org_grant(make_grant, "ORG_OWNER")
    result = await portal.grant(grant, active=[grant], account=None)

    await portal.revoke(grant, remaining=[], account=result.account)

    assert org_roles(atlas) == ["ORG_MEMBER"]


async def test_project_grants_may_name_the_project_without_its_id(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_org_user(ALICE)
    grant = make_grant("project", "Analytics", "GROUP_READ_ONLY")

    await portal.grant(grant, active=[grant], account=None)

    assert project_roles(atlas, OTHER_PROJECT_ID) == ["GROUP_READ_ONLY"]


async def test_portal_upkeep_is_a_no_op_and_list_managed_is_empty(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_org_user(ALICE)
    grant = org_grant(make_grant, "ORG_READ_ONLY")
    result = await portal.grant(grant, active=[grant], account=None)

    assert await portal.ready(grant, account=result.account) is True
    assert await portal.refresh(ALICE, active=[grant], account=result.account) is None
    assert await portal.list_managed() == []
    await portal.cleanup(ALICE, account=result.account)


async def test_remove_managed_deletes_a_membership(portal, atlas: FakeAtlas) -> None:
    atlas.add_org_user(ALICE, org_roles=("ORG_READ_ONLY",))

    await portal.remove_managed(ManagedAccess(person=ALICE, username=ALICE))

    assert atlas.org_user(ALICE) is None


async def test_check_passes_and_names_a_missing_org(integrations, portal_config, portal) -> None:
    await portal.check()
    missing = integrations(portal_config(organization_id="111111111111111111111111"))

    with pytest.raises(IntegrationError, match="organization 111111111111111111111111 not found"):
        await missing.check()


async def test_a_revoke_without_remembered_state_removes_the_granted_role(
    portal, atlas: FakeAtlas, make_grant: MakeGrant
) -> None:
    atlas.add_org_user(ALICE, org_roles=("ORG_MEMBER", "ORG_READ_ONLY"))
    grant = org_grant(make_grant, "ORG_READ_ONLY")

    await portal.revoke(grant, remaining=[], account=None)

    assert org_roles(atlas) == ["ORG_MEMBER"]
