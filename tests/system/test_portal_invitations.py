"""An invited person's Atlas UI grant, through the whole domain on the Atlas fake: shown as
invited (not active) in chat and in the CLI until they accept, every message naming the real
end of the access; their window runs from the invitation, and the invitation is withdrawn at
its end when they never accept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot import admin
from bot.slack.blocks.messages import render
from bot.teams.cards.access import ready_card
from bot.teams.cards.approval import approval_card
from core.domain import sentences
from core.domain.lifecycle import Status
from core.domain.messages import AccessReady, ApprovalRequested
from core.jobs.handlers import reconcile_integration
from tests.fakes.atlas import PROJECT_ID, FakeAtlas
from tests.support.clock import ManualClock
from tests.support.recording_notifier import RecordingNotifier
from tests.system.portal_app import (
    ALICE,
    BOB,
    PORTAL,
    granted,
    later,
    portal_settings,
    start_portal,
    view_of,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


def slack_text(message: object) -> str:
    return json.dumps(render(message).blocks, ensure_ascii=False)


def teams_text(card: object) -> str:
    return json.dumps(card, ensure_ascii=False, default=str)


def last_copy_for(chat: RecordingNotifier, person: str, kind: type) -> object:
    """The latest state of the message ``person`` was sent (its last update, else itself)."""
    (ref,) = [ref for p, m, ref in chat.sent if p == person and isinstance(m, kind)]
    updates = [m for r, m in chat.updated if r == ref]
    return updates[-1] if updates else chat.to(person, kind)[0]


async def test_invited_until_accepted_in_chat_and_cli(
    atlas: FakeAtlas,
    clock: ManualClock,
    sqlite_url: str,
    encryption_key: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = portal_settings(atlas, sqlite_url, encryption_key)
    app, chat = await start_portal(settings, clock)
    request_id = await granted(app)

    view = await view_of(app, request_id)
    assert view.status is Status.GRANTING and view.invited and view.shown_status == "invited"
    assert atlas.org_user(ALICE)["orgMembershipStatus"] == "PENDING"
    assert view.ends_at == view.starts_at + timedelta(hours=1)  # from the invitation on

    (invited,) = chat.to(ALICE, AccessReady)
    assert render(invited).text.startswith("Invited to Atlas: ")  # the notification's text
    end = sentences.utc_text(view.ends_at)
    for shown in (slack_text(invited), teams_text(ready_card(invited))):
        assert sentences.INVITED_HEADING in shown
        assert "Invited to Atlas: accept the emailed invitation before" in shown
        assert end in shown or view.ends_at.strftime("%H:%M") in shown
        assert "30 days" not in shown
        assert "Your access is ready" not in shown
    approver_copy = last_copy_for(chat, BOB, ApprovalRequested)
    assert isinstance(approver_copy, ApprovalRequested) and approver_copy.request.invited
    assert "Invited to Atlas" in slack_text(approver_copy)
    assert "Invited to Atlas" in teams_text(approval_card(approver_copy))

    await admin.list_requests(settings, status=None, limit=10, as_json=True)
    (row,) = json.loads(capsys.readouterr().out)
    assert row["id"] == request_id and row["status"] == "invited"
    await admin.show_request(settings, request_id, as_json=False)
    assert "status: invited" in capsys.readouterr().out

    assert await reconcile_integration(app.ctx, PORTAL) == []  # the grant covers it

    atlas.accept_invitation(ALICE)
    await later(app, clock, minutes=1, seconds=1)

    view = await view_of(app, request_id)
    assert view.status is Status.ACTIVE and not view.invited and view.shown_status == "active"
    ready = chat.to(ALICE, AccessReady)[-1]
    assert ready is not invited and "Your access is ready" in slack_text(ready)
    assert "Invited to Atlas" not in slack_text(last_copy_for(chat, BOB, ApprovalRequested))
    await admin.list_requests(settings, status=None, limit=10, as_json=True)
    assert json.loads(capsys.readouterr().out)[0]["status"] == "active"

    await later(app, clock, hours=1)

    assert (await view_of(app, request_id)).status is Status.EXPIRED
    assert atlas.org_user(ALICE) is None  # the membership Gatepass's invitation made is gone
    await app.ctx.store.close()


async def test_an_invitation_never_accepted_is_withdrawn_at_the_grants_end(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, encryption_key: str
) -> None:
    app, _chat = await start_portal(portal_settings(atlas, sqlite_url, encryption_key), clock)
    request_id = await granted(app)
    polls = len(atlas.calls("GET", "/users"))
    for _ in range(5):
        await later(app, clock, seconds=10)
    assert len(atlas.calls("GET", "/users")) == polls  # asked once a minute, not every second

    for _ in range(32):  # past the deadline of a grant waiting for Atlas to deploy it
        await later(app, clock, minutes=1)
    assert (await view_of(app, request_id)).invited

    await later(app, clock, minutes=30)

    view = await view_of(app, request_id)
    assert view.status is Status.EXPIRED and not view.invited
    assert atlas.org_user(ALICE) is None
    assert atlas.calls("DELETE", "/users/")
    await app.ctx.store.close()


async def test_a_member_is_not_invited_and_is_active_at_once(
    atlas: FakeAtlas, clock: ManualClock, sqlite_url: str, encryption_key: str
) -> None:
    atlas.add_org_user(ALICE)
    app, chat = await start_portal(portal_settings(atlas, sqlite_url, encryption_key), clock)
    request_id = await granted(app)

    view = await view_of(app, request_id)
    assert view.status is Status.ACTIVE and not view.invited
    assert atlas.invitations == []
    member = atlas.org_user(ALICE)
    assert member is not None
    assert {"groupId": PROJECT_ID, "groupRoles": ["GROUP_READ_ONLY"]} in member["roles"][
        "groupRoleAssignments"
    ]
    assert "Your access is ready" in slack_text(chat.to(ALICE, AccessReady)[0])
    await app.ctx.store.close()
