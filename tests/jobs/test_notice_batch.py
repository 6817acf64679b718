"""The notices that ends queue run in batches: every requester gets the message the one-job
path sent, every posted copy is updated once, the batch takes a bounded number of statements
and transactions, one person's chat failure leaves the others' notices delivered and retries
only that job, and a failed recording transaction is tried again, so nothing is sent twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.slack.blocks import render
from bot.teams.install import install as install_teams
from core.domain.notices import Notice, requester_message
from core.jobs.kinds import Kind
from core.storage.models import Job, PostedMessage
from core.storage.request_views import load_view
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeBotConnector, FakeMember, FakeOpenIdServer, FakeTokenEndpoint
from tests.fakes.teams_channel import FakeTeamsChannel
from tests.jobs.test_lean_revoke import Counts, active_grants
from tests.slack.harness import Harness, slack_config, start_harness
from tests.support.clock import ManualClock
from tests.support.domain import Domain, make_domain
from tests.support.memory_integration import MemoryIntegration
from tests.teams.harness import (
    TeamsHarness,
    card_of,
    card_text,
    start_gatepass,
    teams_settings,
)

GRANTS = 20
OWNER_ID, OWNER = "U0BOB", "bob@example.com"


def user_id(index: int) -> str:
    return f"U0P{index:04d}"


def person(index: int) -> str:
    return f"person{index}@example.com"


def many_people() -> dict[str, Any]:
    users = [
        {"email": person(i), "name": f"Person {i}", "groups": ["data-eng"]} for i in range(GRANTS)
    ]
    users.append({"email": OWNER, "name": "Bob Ray", "groups": ["dba"]})
    return {"users": users}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        for i in range(GRANTS):
            fake.add_user(user_id(i), email=person(i), real_name=f"Person {i}")
        fake.add_user(OWNER_ID, email=OWNER, real_name="Bob Ray")
        yield fake


@pytest.fixture
async def harness(
    slack: FakeSlack, postgres_url: str, encryption_key: str
) -> AsyncIterator[Harness]:
    config = slack_config(slack, postgres_url, directory=many_people())
    built = await start_harness(slack, postgres_url, encryption_key, config=config)
    yield built
    await built.close()
    await built.gatepass.ctx.store.close()


async def ended_grants(harness: Harness) -> list[str]:
    """``GRANTS`` active grants due to end, each with its requester's receipt and the owner's
    approval message posted in Slack and remembered, as a request leaves them."""
    domain = Domain(harness.ctx, harness.clock, harness.atlas, None, harness.worker)  # type: ignore[arg-type]
    ids = await active_grants(domain, GRANTS)
    rows = []
    for i, request_id in enumerate(ids):
        for to, recipient, purpose in (
            (user_id(i), person(i), "receipt"),
            (OWNER_ID, OWNER, "approval"),
        ):
            posted = harness.slack.workspace.post_message({"channel": to, "text": "seeded"})
            rows.append(
                PostedMessage(
                    request_id=request_id,
                    recipient=recipient,
                    purpose=purpose,
                    platform="slack",
                    channel=posted["channel"],
                    message_id=posted["ts"],
                    posted_at=harness.clock.now(),
                )
            )
    async with harness.ctx.store.transaction() as session:
        session.add_all(rows)
    return ids


async def expected_ended(harness: Harness, request_id: str) -> dict[str, Any]:
    async with harness.ctx.store.reading() as session:
        view = await load_view(session, harness.ctx.directory, request_id)
    rendered = render(requester_message(view, Notice.ENDED))
    return {"text": rendered.text, "blocks": rendered.blocks}


def ended_dms(harness: Harness, index: int) -> list[dict[str, Any]]:
    """The messages posted to the requester after the seeded receipt (which is updated)."""
    return [m for m in harness.dm(user_id(index))[1:]]


async def job_states(harness: Harness | TeamsHarness) -> Counter[tuple[str, str]]:
    async with harness.ctx.store.reading() as session:
        rows = (await session.execute(sa.select(Job.kind, Job.state))).all()
    return Counter((kind, state) for kind, state in rows)


async def test_every_requester_is_told_once_and_every_copy_updated_once(harness: Harness) -> None:
    ids = await ended_grants(harness)
    await harness.run_jobs()
    for i, request_id in enumerate(ids):
        told = ended_dms(harness, i)
        assert len(told) == 1
        expected = await expected_ended(harness, request_id)
        assert {"text": told[0]["text"], "blocks": told[0]["blocks"]} == expected
    updates = Counter((c["channel"], c["ts"]) for c in harness.slack.calls_to("chat.update"))
    assert len(updates) == 2 * GRANTS and set(updates.values()) == {1}
    states = await job_states(harness)
    assert states[(Kind.NOTIFY_REQUESTER, "done")] == GRANTS
    assert states[(Kind.UPDATE_MESSAGES, "done")] == GRANTS
    async with harness.ctx.store.reading() as session:
        recorded = (
            await session.execute(
                sa.select(PostedMessage.purpose).where(PostedMessage.purpose == "ended:expired")
            )
        ).scalars()
        assert len(list(recorded)) == GRANTS


async def test_one_persons_failure_retries_only_their_notice(harness: Harness) -> None:
    ids = await ended_grants(harness)
    harness.slack.fail_next("chat.postMessage", error="fatal_error")
    await harness.run_jobs()
    failed = [
        c for c in harness.slack.calls_to("chat.postMessage", include_failed=True) if not c.ok
    ]
    assert len(failed) == 1
    unlucky = next(i for i in range(GRANTS) if failed[0]["channel"] == user_id(i))
    for i in range(GRANTS):
        assert len(ended_dms(harness, i)) == (0 if i == unlucky else 1)
    states = await job_states(harness)
    assert states[(Kind.NOTIFY_REQUESTER, "done")] == GRANTS - 1
    assert states[(Kind.NOTIFY_REQUESTER, "queued")] == 1
    harness.clock.advance(minutes=5)
    await harness.run_jobs()
    for i, request_id in enumerate(ids):
        told = ended_dms(harness, i)
        assert len(told) == 1
        assert told[0]["text"] == (await expected_ended(harness, request_id))["text"]
    assert (await job_states(harness))[(Kind.NOTIFY_REQUESTER, "done")] == GRANTS


async def test_a_failed_recording_is_tried_again_and_nothing_is_sent_twice(
    harness: Harness,
) -> None:
    await ended_grants(harness)
    engine = harness.ctx.store.engine.sync_engine
    failures = {"left": 1}

    def database_drops(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if failures["left"] and statement.lstrip().upper().startswith(
            "INSERT INTO POSTED_MESSAGES"
        ):
            failures["left"] -= 1
            raise sa.exc.OperationalError(statement, {}, ConnectionError("connection lost"))

    sa.event.listen(engine, "before_cursor_execute", database_drops)
    try:
        await harness.run_jobs()
    finally:
        sa.event.remove(engine, "before_cursor_execute", database_drops)
    assert failures["left"] == 0
    harness.clock.advance(minutes=5)
    await harness.run_jobs()
    for i in range(GRANTS):
        assert len(ended_dms(harness, i)) == 1
    assert (await job_states(harness))[(Kind.NOTIFY_REQUESTER, "done")] == GRANTS


# ------------------------------------------------------------------ what a batch costs


@pytest.fixture
async def domain(postgres_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(postgres_url, encryption_key)
    yield built
    await built.ctx.store.close()


async def counted(domain: Domain, kind: str, jobs: list[Job]) -> Counts:
    batch = domain.worker.kinds[kind].batch
    assert batch is not None
    counts = Counts()
    engine = domain.ctx.store.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", counts.statement)
    sa.event.listen(engine, "commit", counts.commit)
    try:
        result = await batch(domain.ctx, jobs, worker=domain.worker.worker_id)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counts.statement)
        sa.event.remove(engine, "commit", counts.commit)
    assert len(result.done) == len(jobs) and not result.failed and not result.handed_back
    return counts


async def test_a_batch_of_notices_takes_two_transactions(domain: Domain) -> None:
    ids = await active_grants(domain, GRANTS)
    async with domain.ctx.store.transaction() as session:
        session.add_all(
            PostedMessage(
                request_id=request_id,
                recipient=OWNER,
                purpose="approval",
                platform="slack",
                channel=f"D-{OWNER}",
                message_id=f"m{request_id}",
                posted_at=domain.clock.now(),
            )
            for request_id in ids
        )
    ends = await domain.worker.claim(GRANTS)
    await domain.worker.kinds["expire"].batch(domain.ctx, ends, worker=domain.worker.worker_id)  # type: ignore[misc]
    notices = await domain.worker.claim(2 * GRANTS)
    by_kind = {
        kind: [job for job in notices if job.kind == kind]
        for kind in (Kind.NOTIFY_REQUESTER, Kind.UPDATE_MESSAGES)
    }
    assert [len(jobs) for jobs in by_kind.values()] == [GRANTS, GRANTS]
    for kind, jobs in by_kind.items():
        counts = await counted(domain, kind, jobs)
        assert counts.transactions <= 2, kind
        assert counts.statements <= 8, kind  # the one-job path: 6 to 8 for each job
    assert sorted(person for person, _, _ in domain.chat.sent) == sorted(
        f"person{i}@example.com" for i in range(GRANTS)
    )
    assert sorted(ref.message_id for ref, _ in domain.chat.updated) == sorted(f"m{i}" for i in ids)


# ------------------------------------------------------------------ on Teams


def member(index: int) -> FakeMember:
    return FakeMember(
        id=f"29:1p{index:04d}",
        name=f"Person {index}",
        aad_object_id=f"00000000-0000-4000-8001-{index:012d}",
        email=person(index),
    )


@pytest.fixture
async def teams(postgres_url: str, encryption_key: str) -> AsyncIterator[TeamsHarness]:
    with FakeOpenIdServer() as openid, FakeTokenEndpoint() as tokens:
        async with FakeBotConnector(tokens=tokens) as connector:
            for i in range(GRANTS):
                connector.add_member(member(i))
            settings = teams_settings(
                database_url=postgres_url,
                encryption_key=encryption_key,
                openid=openid,
                tokens=tokens,
                directory=many_people(),
            )
            clock, atlas = ManualClock(), MemoryIntegration("prod-atlas")
            gatepass, runner, base_url = await start_gatepass(
                settings, clock=clock, atlas=atlas, platforms=[install_teams]
            )
            channel = FakeTeamsChannel(openid=openid, connector=connector)
            yield TeamsHarness(gatepass, clock, atlas, connector, channel, base_url)
            await runner.cleanup()
            await gatepass.ctx.store.close()


async def test_every_requester_on_teams_gets_one_card(teams: TeamsHarness) -> None:
    for i in range(GRANTS):
        assert await teams.install(member(i)) in (200, 201)
    worker = teams.gatepass.worker
    assert worker is not None
    domain = Domain(teams.ctx, teams.clock, teams.atlas, None, worker)  # type: ignore[arg-type]
    ids = await active_grants(domain, GRANTS)
    before = {i: len(teams.sent_to(member(i))) for i in range(GRANTS)}
    await teams.run_jobs()
    for i in range(GRANTS):
        cards = teams.sent_to(member(i))[before[i] :]
        assert len(cards) == 1 and cards[0].attachments
        assert ids[i] in card_text(card_of(cards[0].activity))
    states = await job_states(teams)
    assert states[(Kind.NOTIFY_REQUESTER, "done")] == GRANTS
