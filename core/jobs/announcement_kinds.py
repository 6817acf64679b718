"""The jobs that announce things after the fact: break-glass broadcasts and their reviews, and
outbound webhook deliveries (see ``core.jobs.kinds`` for how a kind, its key and payload go)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from core.jobs.kinds import JobPayload, Kind
from core.jobs.queue import JobSpec

# ------------------------------------------------------------------ break-glass


@dataclass(frozen=True)
class BreakGlassNotice(JobPayload):
    """Announce a break-glass use in the broadcast channels and ask the integration owners to
    review it (``round`` 0; a reminder round when nobody has reviewed it yet)."""

    KIND: ClassVar[Kind] = Kind.BREAK_GLASS_NOTICE
    request_id: str
    round: int = 0

    @property
    def reminder(self) -> bool:
        return self.round != 0

    @classmethod
    def first(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls.again(request_id, 0, at=at)

    @classmethod
    def again(cls, request_id: str, round_: int, *, at: datetime) -> JobSpec:
        return cls(request_id, round_).spec(f"break_glass:{request_id}:{round_}", at=at)


@dataclass(frozen=True)
class BreakGlassRemind(JobPayload):
    """Remind the integration owners of a break-glass use nobody has reviewed yet."""

    KIND: ClassVar[Kind] = Kind.BREAK_GLASS_REMIND
    request_id: str
    round: int

    @classmethod
    def rounds(
        cls, request_id: str, offsets: Sequence[timedelta], *, used_at: datetime
    ) -> list[JobSpec]:
        return [
            cls(request_id, index + 1).spec(
                f"break_glass_remind:{request_id}:{index + 1}", at=used_at + offset
            )
            for index, offset in enumerate(sorted(offsets))
        ]


@dataclass(frozen=True)
class BreakGlassUpdate(JobPayload):
    """Bring the broadcasts and review requests of a break-glass use to its reviewed state."""

    KIND: ClassVar[Kind] = Kind.BREAK_GLASS_UPDATE
    request_id: str

    @classmethod
    def for_review(cls, request_id: str, *, at: datetime) -> JobSpec:
        return cls(request_id).spec(f"break_glass_update:{request_id}", at=at)


# ------------------------------------------------------------------ outbound webhooks


@dataclass(frozen=True)
class WebhookSend(JobPayload):
    """Send one stored webhook delivery (``core.webhooks.delivery``); retried with backoff."""

    KIND: ClassVar[Kind] = Kind.WEBHOOK
    delivery_id: str

    @classmethod
    def for_delivery(cls, delivery_id: str, *, attempts: int, at: datetime) -> JobSpec:
        spec = cls(delivery_id).spec(f"webhook:{delivery_id}", at=at)
        return JobSpec(spec.kind, spec.dedupe_key, spec.run_at, spec.payload, attempts)
