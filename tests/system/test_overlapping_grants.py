"""Several grants for one person on one Atlas user, through the Atlas wire fake and the real
worker with a moved clock: the user's roles are the union of every grant in flight for each
grant's whole window, an ending grant never takes what another still needs, a grant that finds
the user gone makes it again, a wait that never ends fails visibly, and a live grant always has
a password that works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.app import Gatepass
from core.domain.errors import NothingToReveal
from core.domain.lifecycle import Status
from core.domain.messages import AccessReady, OwnerAlert, RequestOutcome
from core.domain.views import RequestView
from core.storage.models import Job
from core.storage.request_views import load_view
from core.use_cases import approvals, grants, requests
from core.use_cases.eligibility import Draft
from tests.fakes.atlas import PROJECT_ID, FakeAtlas
from tests.support.clock import ManualClock
from tests.support.recording_notifier import RecordingNotifier
from tests.system.test_atlas_through_core import start

ALICE = "alice@example.com"
ANALYTICS = {"roleName": "read", "databaseName": "analytics"}
SALES = {"roleName": "read", "databaseName": "sales"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def atlas(clock: ManualClock) -> AsyncIterator[FakeAtlas]:
    async with FakeAtlas(clock=clock) as fake:
        yield fake


@pytest.fixture
async def gatepass(
    atlas: FakeAtlas, clock: ManualClock, database_url: str, encryption_key: str
) -> AsyncIterator[tuple[Gatepass, RecordingNotifier]]:
    app, chat = await start(atlas, clock, database_url, encryption_key)
    yield app, chat
    await app.close()


async def approved(app: Gatepass, database: str, hours: float = 1) -> str:
    draft = Draft("prod-atlas", "database", database, "read", timedelta(hours=hours), "report")
    view = await requests.submit(app.ctx, requester=ALICE, draft=draft, platform="slack")
    await approvals.decide(
        app.ctx,
        approver="bob@example.com",
        request_id=view.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    return view.id


async def view_of(app: Gatepass, request_id: str) -> RequestView:
    async with app.ctx.store.reading() as session:
        return await load_view(session, app.ctx.directory, request_id)


def roles(atlas: FakeAtlas) -> list[dict[str, str]]:
    """The roles of Alice's Atlas user (none when it does not exist)."""
    users = [u for name, u in atlas.users[PROJECT_ID].items() if name.startswith("gp-alice-")]
    assert len(users) <= 1
    return sorted(users[0]["roles"], key=str) if users else []


async def step(app: Gatepass, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds=seconds)
    await app.worker.run_due()


async def settle(app: Gatepass, clock: ManualClock) -> None:
    """Four seconds of one-second polls: Atlas reports the changes applied."""
    for _ in range(4):
        await step(app, clock, 1)


async def until(app: Gatepass, clock: ManualClock, to: datetime, atlas: FakeAtlas, held: list):
    """Move to ``to`` in 30-second steps; at each, Alice's user must hold every role of
    ``held`` (a list the caller may change)."""
    while clock.now() < to:
        await step(app, clock, min(30.0, (to - clock.now()).total_seconds()))
        for role in held:
            assert role in roles(atlas), f"{role} missing at {clock.now()}"


async def test_two_grants_back_to_back_keep_both_roles_for_both_windows(
    gatepass: tuple[Gatepass, RecordingNotifier], atlas: FakeAtlas, clock: ManualClock
) -> None:
    app, chat = gatepass
    first = await approved(app, "analytics")
    second = await approved(app, "sales", hours=2)
    await app.worker.run_due()  # both made before Atlas deployed the first
    assert (await view_of(app, first)).status is Status.GRANTING
    assert roles(atlas) == sorted([ANALYTICS, SALES], key=str)
    await settle(app, clock)
    assert (await view_of(app, first)).status is Status.ACTIVE
    assert (await view_of(app, second)).status is Status.ACTIVE
    assert len(chat.to(ALICE, AccessReady)) == 2
    first_end = (await view_of(app, first)).ends_at
    second_end = (await view_of(app, second)).ends_at
    assert first_end is not None and second_end is not None
    await until(app, clock, first_end - timedelta(seconds=1), atlas, [ANALYTICS, SALES])
    await step(app, clock, 1)
    assert (await view_of(app, first)).status is Status.EXPIRED
    assert roles(atlas) == [SALES]
    await until(app, clock, second_end - timedelta(seconds=1), atlas, [SALES])
    await step(app, clock, 1)
    assert (await view_of(app, second)).status is Status.EXPIRED
    assert roles(atlas) == []


async def test_a_grant_asked_just_before_another_ends_survives_its_end(
    gatepass: tuple[Gatepass, RecordingNotifier], atlas: FakeAtlas, clock: ManualClock
) -> None:
    app, _chat = gatepass
    first = await approved(app, "analytics")
    await settle(app, clock)
    first_end = (await view_of(app, first)).ends_at
    assert first_end is not None
    clock.set(first_end - timedelta(seconds=3))
    second = await approved(app, "sales")
    await app.worker.run_due()
    assert roles(atlas) == sorted([ANALYTICS, SALES], key=str)
    for _ in range(6):
        await step(app, clock, 1)
    assert (await view_of(app, first)).status is Status.EXPIRED
    assert (await view_of(app, second)).status is Status.ACTIVE
    assert roles(atlas) == [SALES]
    async with app.ctx.store.reading() as session:
        waiting = (
            await session.execute(
                sa.select(Job.dedupe_key).where(
                    Job.state == "queued", Job.waiting_since.is_not(None)
                )
            )
        ).all()
    assert waiting == []  # nothing keeps rescheduling


async def test_the_second_grant_reveals_a_working_password_after_the_first_ends(
    gatepass: tuple[Gatepass, RecordingNotifier], atlas: FakeAtlas, clock: ManualClock
) -> None:
    app, _chat = gatepass
    first = await approved(app, "analytics")
    await settle(app, clock)
    clock.advance(minutes=10)
    second = await approved(app, "sales")
    await settle(app, clock)
    assert (await view_of(app, second)).status is Status.ACTIVE
    username = (await view_of(app, second)).username
    first_end = (await view_of(app, first)).ends_at
    assert first_end is not None and username is not None
    clock.set(first_end)
    await app.worker.run_due()
    assert (await view_of(app, first)).status is Status.EXPIRED
    with pytest.raises(NothingToReveal):
        await grants.reveal_password(app.ctx, actor=ALICE, request_id=first, platform="slack")
    password = await grants.reveal_password(
        app.ctx, actor=ALICE, request_id=second, platform="slack"
    )
    assert password.reveal() == atlas.passwords[(PROJECT_ID, username)]
    assert roles(atlas) == [SALES]


async def test_a_user_deleted_while_its_grant_deploys_is_made_again(
    gatepass: tuple[Gatepass, RecordingNotifier], atlas: FakeAtlas, clock: ManualClock
) -> None:
    app, _chat = gatepass
    request_id = await approved(app, "analytics")
    await app.worker.run_due()
    username = (await view_of(app, request_id)).username
    assert username is not None and (await view_of(app, request_id)).status is Status.GRANTING
    del atlas.users[PROJECT_ID][username]  # someone deletes it before Atlas reports it applied
    for _ in range(4):
        await step(app, clock, 2)
    assert (await view_of(app, request_id)).status is Status.ACTIVE
    assert roles(atlas) == [ANALYTICS]
    password = await grants.reveal_password(
        app.ctx, actor=ALICE, request_id=request_id, platform="slack"
    )
    assert password.reveal() == atlas.passwords[(PROJECT_ID, username)]


async def test_a_deploy_that_never_ends_fails_at_the_deadline_and_people_are_told(
    gatepass: tuple[Gatepass, RecordingNotifier], atlas: FakeAtlas, clock: ManualClock
) -> None:
    app, chat = gatepass
    atlas.pending_polls = 10**9
    request_id = await approved(app, "analytics")
    await app.worker.run_due()
    assert roles(atlas) == [ANALYTICS]
    for _ in range(29):
        await step(app, clock, 60)
    assert (await view_of(app, request_id)).status is Status.GRANTING
    await step(app, clock, 60)
    await step(app, clock, 60)
    failed = await view_of(app, request_id)
    assert failed.status is Status.FAILED
    assert (
        failed.failure == "still not done after 30 minutes: waiting for the change to be deployed"
    )
    assert chat.to(ALICE, RequestOutcome)[-1].request.status is Status.FAILED
    alerts = chat.to("carol@example.com", OwnerAlert)
    assert alerts and "waiting for the change to be deployed" in alerts[0].problem
    assert roles(atlas) == []  # the access the grant had made is removed
