"""The job vocabulary: each constructor owns its kind, dedupe key and payload, and a handler reads
the payload back typed. The dedupe keys are the ones rows queued before carry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.jobs.kinds import (
    ApproversNotice,
    CleanupJob,
    ExpireJob,
    GrantJob,
    Kind,
    MessagesUpdate,
    OwnersNotice,
    PendingTimeoutJob,
    PeriodicJob,
    RemindJob,
    RequesterNotice,
    RevokeJob,
    WarnExpiryJob,
    ending_of,
)
from core.jobs.queue import JobSpec, PermanentFailure
from core.storage.models import Job

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def as_job(spec: JobSpec, job_id: int = 7) -> Job:
    """The row ``enqueue`` writes for ``spec``, as the worker claims it (payload through JSON)."""
    payload = json.loads(json.dumps(dict(spec.payload)))
    return Job(
        id=job_id,
        kind=str(spec.kind),
        payload=payload,
        dedupe_key=spec.dedupe_key,
        run_at=spec.run_at,
        created_at=spec.run_at,
    )


@pytest.mark.parametrize(
    ("spec", "kind", "key", "payload"),
    [
        (GrantJob.for_request("R1", at=NOW), "grant", "grant:R1", {"request_id": "R1"}),
        (
            ExpireJob.at_end("R1", ends_at=NOW),
            "expire",
            "expire:R1:20261123T120000.000000",
            {"request_id": "R1"},
        ),
        (
            WarnExpiryJob.before_end("R1", ends_at=NOW, at=NOW),
            "warn_expiry",
            "warn:R1:20261123T120000.000000",
            {"request_id": "R1"},
        ),
        (
            PendingTimeoutJob.for_request("R1", at=NOW),
            "pending_timeout",
            "timeout:R1",
            {"request_id": "R1"},
        ),
        (
            RevokeJob.asked(
                "R1", actor="alice@example.com", reason="done", platform="slack", at=NOW
            ),
            "revoke",
            "revoke:R1",
            {
                "request_id": "R1",
                "actor": "alice@example.com",
                "reason": "done",
                "platform": "slack",
            },
        ),
        (
            ApproversNotice.first("R1", at=NOW),
            "notify_approvers",
            "approvers:R1:0",
            {"request_id": "R1", "round": "0"},
        ),
        (
            ApproversNotice.again("R1", 2, at=NOW),
            "notify_approvers",
            "approvers:R1:2",
            {"request_id": "R1", "round": "2"},
        ),
        (
            RequesterNotice.about("R1", Notice.READY, key="granted", at=NOW),
            "notify_requester",
            "requester:R1:ready:granted",
            {"request_id": "R1", "notice": "ready", "key": "granted"},
        ),
        (
            RequesterNotice.about("R1", Notice.RECEIPT, at=NOW),
            "notify_requester",
            "requester:R1:receipt:",
            {"request_id": "R1", "notice": "receipt", "key": ""},
        ),
        (
            OwnersNotice.about("R1", "Granting failed", key="grant-failed", at=NOW),
            "notify_owners",
            "owners:R1:grant-failed",
            {"request_id": "R1", "problem": "Granting failed"},
        ),
        (
            MessagesUpdate.for_request("R1", version=Status.ACTIVE, at=NOW),
            "update_messages",
            "update:R1:active",
            {"request_id": "R1"},
        ),
        (
            CleanupJob.for_account("prod-atlas", "alice@example.com", at=NOW),
            "cleanup",
            f"cleanup:prod-atlas:alice@example.com:{NOW.isoformat()}",
            {"integration": "prod-atlas", "person": "alice@example.com"},
        ),
        (
            PeriodicJob.for_slot(Kind.SYNC, "prod-atlas", 41, at=NOW),
            "sync",
            "sync:prod-atlas:41",
            {"integration": "prod-atlas", "slot": 41},
        ),
        (
            PeriodicJob.for_slot(Kind.PRUNE, None, 3, at=NOW),
            "prune",
            "prune:*:3",
            {"integration": None, "slot": 3},
        ),
    ],
)
def test_each_constructor_owns_its_kind_key_and_payload(
    spec: JobSpec, kind: str, key: str, payload: dict[str, object]
) -> None:
    assert (spec.kind, spec.dedupe_key, dict(spec.payload), spec.run_at) == (
        kind,
        key,
        payload,
        NOW,
    )


def test_handlers_read_the_payload_back_typed() -> None:
    notice = RequesterNotice.of(as_job(RequesterNotice.about("R1", Notice.READY, key="g", at=NOW)))
    assert notice.notice is Notice.READY and notice.key == "g"
    queued_before = as_job(RequesterNotice.about("R1", Notice.OUTCOME, at=NOW))
    queued_before.payload = {"request_id": "R1", "notice": "outcome"}  # no key in older rows
    assert RequesterNotice.of(queued_before).key == ""
    revoke = ending_of(
        as_job(RevokeJob.asked("R1", actor="bob@example.com", reason=None, platform=None, at=NOW))
    )
    assert isinstance(revoke, RevokeJob) and revoke.target is Status.REVOKED
    expire = ending_of(as_job(ExpireJob.at_end("R1", ends_at=NOW)))
    assert isinstance(expire, ExpireJob) and expire.target is Status.EXPIRED
    assert expire.reason == "its time was up" and expire.actor is None
    run = PeriodicJob.of(as_job(PeriodicJob.for_slot(Kind.REFRESH, "prod-atlas", 9, at=NOW)))
    assert run.next(at=NOW + timedelta(hours=6)).dedupe_key == "refresh:prod-atlas:10"


def test_reminder_rounds_escalate_only_on_the_last() -> None:
    specs = RemindJob.rounds(
        "R1",
        [timedelta(hours=2), timedelta(minutes=30)],
        escalate_last=True,
        submitted_at=NOW,
    )
    assert [(s.dedupe_key, s.run_at - NOW, dict(s.payload)["escalate"]) for s in specs] == [
        ("remind:R1:0", timedelta(minutes=30), False),
        ("remind:R1:1", timedelta(hours=2), True),
    ]
    assert RemindJob.of(as_job(specs[1])).round == 2


def test_a_payload_that_cannot_be_read_fails_the_job_for_good() -> None:
    broken = as_job(GrantJob.for_request("R1", at=NOW))
    broken.payload = {}
    with pytest.raises(PermanentFailure, match="bad payload"):
        GrantJob.of(broken)
    with pytest.raises(PermanentFailure, match="not notify_requester"):
        RequesterNotice.of(as_job(GrantJob.for_request("R1", at=NOW)))
