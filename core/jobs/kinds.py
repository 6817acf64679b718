"""Every job Gatepass queues, in one place: its kind, its dedupe key and its payload.

A step is queued through one constructor here (``GrantJob.for_request(request_id, at=now)``),
which returns a :class:`~core.jobs.queue.JobSpec` for ``queue.enqueue``; its handler reads the
job back through the same class (``GrantJob.of(job)``) and never parses a dedupe key. The keys
are the ones rows already queued carry, so an upgrade never queues a step twice.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self, get_type_hints

from core.domain.lifecycle import Status
from core.domain.notices import Notice
from core.jobs.queue import JobSpec, PermanentFailure
from core.storage.models import Job


class Kind(enum.StrEnum):
    GRANT = "grant"
    EXPIRE = "expire"
    REVOKE = "revoke"
    REMIND = "remind"
    PENDING_TIMEOUT = "pending_timeout"
    WARN_EXPIRY = "warn_expiry"
    NOTIFY_APPROVERS = "notify_approvers"
    NOTIFY_REQUESTER = "notify_requester"
    NOTIFY_OWNERS = "notify_owners"
    UPDATE_MESSAGES = "update_messages"
    SYNC = "sync"
    RECONCILE = "reconcile"
    REFRESH = "refresh"
    CLEANUP = "cleanup"
    PRUNE = "prune"
    DEPROVISION = "deprovision"
    BREAK_GLASS_NOTICE = "break_glass_notice"
    BREAK_GLASS_REMIND = "break_glass_remind"
    BREAK_GLASS_UPDATE = "break_glass_update"
    WEBHOOK = "webhook"
    AWAIT_INVITATION = "await_invitation"
    ESCALATE = "escalate"
    NOTIFY_OWNER_COPIES = "notify_owner_copies"


PERIODIC = (Kind.SYNC, Kind.RECONCILE, Kind.REFRESH, Kind.PRUNE)
FIRST_ASK = "0"  # the approvers' round of a request's first ask (later: reminder rounds)
UNREACHABLE_ROUND = "unreachable"  # the round that asks the owners when nobody was reachable
ESCALATION_ROUND = "escalation"  # the round that asks the owners of a flow without reminders


def _stamp(moment: datetime) -> str:
    """A moment in a dedupe key, to the microsecond: two ends are one job only if equal."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")


@dataclass(frozen=True)
class JobPayload:
    """What a job carries. Each subclass names its kind and builds its own dedupe key."""

    KIND: ClassVar[Kind]

    @property
    def kind(self) -> Kind:
        return self.KIND

    def payload(self) -> dict[str, Any]:
        return asdict(self)

    def spec(self, dedupe_key: str, *, at: datetime) -> JobSpec:
        return JobSpec(kind=self.kind, dedupe_key=dedupe_key, run_at=at, payload=self.payload())

    @classmethod
    def of(cls, job: Job) -> Self:
        """The payload of ``job``, typed; PermanentFailure when the job is not of this kind or
        its payload lacks what this kind needs (retrying could not help)."""
        if job.kind != cls.KIND:
            raise PermanentFailure(f"job {job.id} is a {job.kind} job, not {cls.KIND}")
        return cls._read(job, job.payload)

    @classmethod
    def _read(cls, job: Job, payload: dict[str, Any], **known: Any) -> Self:
        hints = get_type_hints(cls)
        values = dict(known)
        for item in fields(cls):
            if item.name not in payload or item.name in values:
                continue
            value, hint = payload[item.name], hints.get(item.name)
            if isinstance(hint, type) and issubclass(hint, enum.Enum):
                value = hint(value)
            values[item.name] = value
        try:
            return cls(**values)
        except TypeError as error:
            raise PermanentFailure(f"job {job.id} ({job.kind}): bad payload: {error}") from None


# ------------------------------------------------------------------ a request's steps


@dataclass(frozen=True)
class GrantJob(JobPayload):
    """Make an approved request's access exist in its integration."""

    KIND: ClassVar[Kind] = Kind.GRANT
    request_id: str

    @classmethod
    def for_request(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls(request_id).spec(f"grant:{request_id}", at=at)


@dataclass(frozen=True)
class InvitationJob(JobPayload):
    """Wait for an invited person to accept (Atlas UI), for as long as the grant's window
    runs: the grant step hands over to it, having no deadline of its own."""

    KIND: ClassVar[Kind] = Kind.AWAIT_INVITATION
    request_id: str

    @classmethod
    def for_request(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls(request_id).spec(f"invitation:{request_id}", at=at)


@dataclass(frozen=True)
class ExpireJob(JobPayload):
    """Take an active grant's access away when its time is up."""

    KIND: ClassVar[Kind] = Kind.EXPIRE
    request_id: str
    target: ClassVar[Status] = Status.EXPIRED
    actor: ClassVar[str | None] = None  # Gatepass itself
    reason: ClassVar[str | None] = "its time was up"
    platform: ClassVar[str | None] = None

    @classmethod
    def at_end(cls, request_id: str, *, ends_at: datetime) -> JobSpec:
        """Queued for each end the grant's window has had (its tentative start, the start
        recorded, each extension); one whose end has since moved later does nothing."""
        return cls(request_id).spec(f"expire:{request_id}:{_stamp(ends_at)}", at=ends_at)


@dataclass(frozen=True)
class RevokeJob(JobPayload):
    """Take an active grant's access away now, because someone asked."""

    KIND: ClassVar[Kind] = Kind.REVOKE
    request_id: str
    actor: str
    reason: str | None = None
    platform: str | None = None
    target: ClassVar[Status] = Status.REVOKED

    @classmethod
    def asked(
        cls,
        request_id: str,
        *,
        actor: str,
        reason: str | None,
        platform: str | None,
        at: datetime,
    ) -> JobSpec:
        return cls(request_id, actor, reason, platform).spec(f"revoke:{request_id}", at=at)


def ending_of(job: Job) -> ExpireJob | RevokeJob:
    """The payload of an ``expire`` or ``revoke`` job: both end a grant, one way."""
    return RevokeJob.of(job) if job.kind == Kind.REVOKE else ExpireJob.of(job)


@dataclass(frozen=True)
class WarnExpiryJob(JobPayload):
    """Tell the requester that their access ends soon."""

    KIND: ClassVar[Kind] = Kind.WARN_EXPIRY
    request_id: str

    @classmethod
    def before_end(cls, request_id: str, *, ends_at: datetime, at: datetime) -> JobSpec:
        """One per end of the window (an extension moves it, and warns again later)."""
        return cls(request_id).spec(f"warn:{request_id}:{_stamp(ends_at)}", at=at)


@dataclass(frozen=True)
class PendingTimeoutJob(JobPayload):
    """End a request nobody decided on in time."""

    KIND: ClassVar[Kind] = Kind.PENDING_TIMEOUT
    request_id: str

    @classmethod
    def for_request(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls(request_id).spec(f"timeout:{request_id}", at=at)


@dataclass(frozen=True)
class RemindJob(JobPayload):
    """Ask the approvers who have not decided again; ``escalate``: also ask the integration
    owners (the last reminder of a request routed to resource owners)."""

    KIND: ClassVar[Kind] = Kind.REMIND
    request_id: str
    round: int
    escalate: bool = False

    @classmethod
    def rounds(
        cls,
        request_id: str,
        offsets: Sequence[timedelta],
        *,
        escalate_last: bool,
        submitted_at: datetime,
    ) -> list[JobSpec]:
        ordered = sorted(offsets)
        return [
            cls(request_id, index + 1, escalate_last and index == len(ordered) - 1).spec(
                f"remind:{request_id}:{index}", at=submitted_at + offset
            )
            for index, offset in enumerate(ordered)
        ]


@dataclass(frozen=True)
class EscalateJob(JobPayload):
    """Ask the integration owners of a request nobody decided in time, when its flow has no
    reminders to escalate with (``core.jobs.escalation``)."""

    KIND: ClassVar[Kind] = Kind.ESCALATE
    request_id: str

    @classmethod
    def for_request(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls(request_id).spec(f"escalate:{request_id}", at=at)


# ------------------------------------------------------------------ notices


@dataclass(frozen=True)
class ApproversNotice(JobPayload):
    """Ask every approver who has not decided (``round``: the first ask, a reminder round, or
    the owners asked because nobody was reachable)."""

    KIND: ClassVar[Kind] = Kind.NOTIFY_APPROVERS
    request_id: str
    round: str = FIRST_ASK

    @property
    def reminder(self) -> bool:
        return self.round != FIRST_ASK

    @classmethod
    def first(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls.again(request_id, FIRST_ASK, at=at)

    @classmethod
    def again(cls, request_id: str, round_: str | int, *, at: datetime) -> JobSpec:
        return cls(request_id, str(round_)).spec(f"approvers:{request_id}:{round_}", at=at)


@dataclass(frozen=True)
class RequesterNotice(JobPayload):
    """Tell the requester something (``key`` tells one notice of a kind from the next: the
    outcome's status, ``granted`` or a rotation's time for ``ready``)."""

    KIND: ClassVar[Kind] = Kind.NOTIFY_REQUESTER
    request_id: str
    notice: Notice
    key: str = ""

    @classmethod
    def about(cls, request_id: str, notice: Notice, *, key: str = "", at: datetime) -> JobSpec:
        return cls(request_id, notice, key).spec(f"requester:{request_id}:{notice}:{key}", at=at)


@dataclass(frozen=True)
class OwnersNotice(JobPayload):
    """Tell the integration owners about a problem that needs a person."""

    KIND: ClassVar[Kind] = Kind.NOTIFY_OWNERS
    request_id: str
    problem: str

    @classmethod
    def about(cls, request_id: str, problem: str, *, key: str, at: datetime) -> JobSpec:
        return cls(request_id, problem).spec(f"owners:{request_id}:{key}", at=at)


@dataclass(frozen=True)
class OwnerCopies(JobPayload):
    """Give each integration owner not asked to approve a copy of a grant that became active,
    with "Revoke now" (``core.jobs.notices``)."""

    KIND: ClassVar[Kind] = Kind.NOTIFY_OWNER_COPIES
    request_id: str

    @classmethod
    def for_grant(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls(request_id).spec(f"owner-copies:{request_id}", at=at)


@dataclass(frozen=True)
class MessagesUpdate(JobPayload):
    """Bring every posted copy of a request's messages to its current state (``version``
    names the state, so each change is queued once)."""

    KIND: ClassVar[Kind] = Kind.UPDATE_MESSAGES
    request_id: str

    @classmethod
    def for_request(cls, request_id: str, *, version: str, at: datetime) -> JobSpec:
        return cls(request_id).spec(f"update:{request_id}:{version}", at=at)


# ------------------------------------------------------------------ the directory


@dataclass(frozen=True)
class DeprovisionJob(JobPayload):
    """End what a person deprovisioned by the identity provider still has: pending requests
    cancelled, active access revoked (``core.jobs.deprovision``)."""

    KIND: ClassVar[Kind] = Kind.DEPROVISION
    person: str
    why: str

    @classmethod
    def for_person(cls, person: str, *, why: str, revision: int, at: datetime) -> JobSpec:
        return cls(person, why).spec(f"deprovision:{person}:{revision}", at=at)


# ------------------------------------------------------------------ upkeep


@dataclass(frozen=True)
class CleanupJob(JobPayload):
    """Delete an account a revocation left disabled (``user_cleanup_days``)."""

    KIND: ClassVar[Kind] = Kind.CLEANUP
    integration: str
    person: str

    @classmethod
    def for_account(cls, integration: str, person: str, *, at: datetime) -> JobSpec:
        key = f"cleanup:{integration}:{person}:{at.isoformat()}"
        return cls(integration, person).spec(key, at=at)


@dataclass(frozen=True)
class PeriodicJob(JobPayload):
    """One time slot of a periodic task (``integration`` None: one for all of them)."""

    task: Kind
    integration: str | None
    slot: int

    @property
    def kind(self) -> Kind:
        return self.task

    def payload(self) -> dict[str, Any]:
        return {"integration": self.integration, "slot": self.slot}

    @classmethod
    def of(cls, job: Job) -> Self:
        if job.kind not in PERIODIC:
            raise PermanentFailure(f"job {job.id} is a {job.kind} job, not a periodic one")
        return cls._read(job, job.payload, task=Kind(job.kind))

    @classmethod
    def for_slot(cls, task: Kind, integration: str | None, slot: int, *, at: datetime) -> JobSpec:
        key = f"{task}:{integration or '*'}:{slot}"
        return cls(task, integration, slot).spec(key, at=at)

    def next(self, *, at: datetime) -> JobSpec:
        return self.for_slot(self.task, self.integration, self.slot + 1, at=at)
