"""The Atlas fake's invitations, organization users and project roles behave like Atlas's: an
unknown project role is refused with Atlas's error body, an accepted invitation turns into the
person's own user (a new id), and a 30-day-old invitation expires but stays listed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from tests.atlas.conftest import FakeClock
from tests.atlas.test_fake import V2025, assert_error
from tests.fakes.atlas import ORG_ID, PRIVATE_KEY, PROJECT_ID, PUBLIC_KEY, FakeAtlas

ORG_USERS = f"/api/atlas/v2/orgs/{ORG_ID}/users"
GROUP_USERS = f"/api/atlas/v2/groups/{PROJECT_ID}/users"
NEW = "new@example.com"


@pytest.fixture
async def raw(atlas: FakeAtlas) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=atlas.url, auth=httpx.DigestAuth(PUBLIC_KEY, PRIVATE_KEY)
    ) as client:
        yield client


def invitation(*project_roles: str) -> dict[str, object]:
    assignments = [{"groupId": PROJECT_ID, "groupRoles": list(project_roles)}]
    return {
        "username": NEW,
        "roles": {"orgRoles": ["ORG_MEMBER"], "groupRoleAssignments": assignments},
    }


async def test_an_unknown_project_role_is_refused_everywhere_with_atlas_s_error(
    raw: httpx.AsyncClient, atlas: FakeAtlas
) -> None:
    member = atlas.add_org_user("bob@example.com", project_roles={PROJECT_ID: ("GROUP_READ_ONLY",)})

    invite = await raw.post(ORG_USERS, json=invitation("GROUP_REED_ONLY"), headers=V2025)
    join = await raw.post(
        GROUP_USERS, json={"username": NEW, "roles": ["GROUP_REED_ONLY"]}, headers=V2025
    )
    add = await raw.post(
        f"{GROUP_USERS}/{member['id']}:addRole", json={"groupRole": "GROUP_ADMIN"}, headers=V2025
    )

    body = assert_error(invite, 400, "INVALID_ENUM_VALUE")
    assert body["detail"] == "An invalid enumeration value GROUP_REED_ONLY was specified."
    assert body["parameters"] == ["GROUP_REED_ONLY"]
    assert_error(join, 400, "INVALID_ENUM_VALUE")
    assert_error(add, 400, "INVALID_ENUM_VALUE")
    assert atlas.invitations == [] and atlas.org_user(NEW) is None


async def test_an_accepted_invitation_is_the_person_s_own_user(
    raw: httpx.AsyncClient, atlas: FakeAtlas
) -> None:
    sent = (await raw.post(ORG_USERS, json=invitation("GROUP_READ_ONLY"), headers=V2025)).json()

    accepted = atlas.accept_invitation(NEW)
    listed = (await raw.get(ORG_USERS, params={"username": NEW}, headers=V2025)).json()
    old = await raw.get(f"{ORG_USERS}/{sent['id']}", headers=V2025)

    (user,) = listed["results"]
    assert user["id"] == accepted["id"] != sent["id"]
    assert user["orgMembershipStatus"] == "ACTIVE"
    assert "invitationExpiresAt" not in user and "lastAuth" in user
    assert user["roles"]["groupRoleAssignments"] == [
        {"groupId": PROJECT_ID, "groupRoles": ["GROUP_READ_ONLY"]}
    ]
    assert_error(old, 404, "USER_NOT_FOUND")


async def test_an_invitation_expires_after_30_days_and_stays_listed(
    raw: httpx.AsyncClient, atlas: FakeAtlas, clock: FakeClock
) -> None:
    sent = (await raw.post(ORG_USERS, json=invitation("GROUP_READ_ONLY"), headers=V2025)).json()
    clock.advance(timedelta(days=30, seconds=1))

    listed = (await raw.get(ORG_USERS, params={"username": NEW}, headers=V2025)).json()
    again = await raw.post(ORG_USERS, json=invitation("GROUP_READ_ONLY"), headers=V2025)

    assert [u["orgMembershipStatus"] for u in listed["results"]] == ["INVITATION_EXPIRED"]
    assert again.status_code == 201 and again.json()["id"] != sent["id"]  # replaces it


async def test_a_declined_invitation_is_kept_as_rejected(
    raw: httpx.AsyncClient, atlas: FakeAtlas
) -> None:
    await raw.post(ORG_USERS, json=invitation("GROUP_READ_ONLY"), headers=V2025)

    atlas.reject_invitation(NEW)
    listed = (await raw.get(ORG_USERS, params={"username": NEW}, headers=V2025)).json()

    assert [u["orgMembershipStatus"] for u in listed["results"]] == ["INVITATION_REJECTED"]
    assert atlas.org_user(NEW) is None  # no longer a member, invited or not
