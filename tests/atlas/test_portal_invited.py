"""An invited person's grant is not ready until they accept; a declined or expired invitation
waits for the grant's end (never a second email); a withdrawn one is made again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core.domain.ports import AccessGrant, AccessMissing
from tests.atlas.conftest import FakeClock
from tests.fakes.atlas import ORG_ID, PROJECT_ID, FakeAtlas

ALICE = "alice@example.com"


def sales_read(make_grant: Callable[..., AccessGrant]) -> AccessGrant:
    return make_grant("project", "Sales", "GROUP_READ_ONLY", external_id=PROJECT_ID)


async def test_ready_only_once_the_invitation_is_accepted(portal, atlas: FakeAtlas, make_grant):
    grant = sales_read(make_grant)
    result = await portal.grant(grant, active=[grant], account=None)
    assert result.invited and not result.ready

    assert await portal.ready(grant, account=result.account) is False
    atlas.accept_invitation(ALICE)
    assert await portal.ready(grant, account=result.account) is True


@pytest.mark.parametrize("ending", ["declined", "expired"])
async def test_a_dead_invitation_is_not_sent_again(
    portal, atlas: FakeAtlas, clock: FakeClock, make_grant, ending: str
):
    grant = sales_read(make_grant)
    result = await portal.grant(grant, active=[grant], account=None)
    if ending == "declined":
        atlas.reject_invitation(ALICE)
    else:
        clock.advance(timedelta(days=31))

    assert await portal.ready(grant, account=result.account) is False
    assert atlas.invitations == [ALICE]


async def test_a_withdrawn_invitation_is_missing_access(portal, atlas: FakeAtlas, make_grant):
    grant = sales_read(make_grant)
    result = await portal.grant(grant, active=[grant], account=None)
    del atlas.org_users[ORG_ID][atlas.org_user(ALICE)["id"]]

    with pytest.raises(AccessMissing, match="no longer in organization"):
        await portal.ready(grant, account=result.account)
