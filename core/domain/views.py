"""A request as the edges render it: what it is, who decides, what was decided, how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.lifecycle import Status


@dataclass(frozen=True)
class ApproverView:
    email: str
    name: str
    reason: str
    escalation: bool = False


@dataclass(frozen=True)
class DecisionView:
    approver: str
    approver_name: str
    outcome: str  # approve | deny
    reason: str | None
    platform: str
    at: datetime


@dataclass(frozen=True)
class RequestView:
    id: str
    flow: str
    integration: str
    resource_type: str
    resource_name: str
    permission: str
    duration: timedelta
    justification: str
    requester: str
    requester_name: str
    platform: str
    status: Status
    approvals_required: int
    approvers: tuple[ApproverView, ...]
    decisions: tuple[DecisionView, ...]
    created_at: datetime
    pending_until: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decided_by_name: str | None
    decided_on: str | None
    decision_reason: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    failure: str | None
    extends_request_id: str | None
    username: str | None = None
    connection: dict[str, object] | None = None
    password_waiting: bool = False
    # Atlas UI: the person was invited and has not accepted yet (the grant is not active).
    invited: bool = False

    @property
    def shown_status(self) -> str:
        """The status as people read it: ``invited`` while an invitation waits, else the
        status's own name."""
        return "invited" if self.invited else self.status.value

    @property
    def resource(self) -> str:
        return f"{self.resource_type} {self.resource_name}"

    @property
    def is_pending(self) -> bool:
        return self.status is Status.PENDING

    @property
    def approvals(self) -> tuple[DecisionView, ...]:
        return tuple(d for d in self.decisions if d.outcome == "approve")

    def approver(self, email: str) -> ApproverView | None:
        return next((a for a in self.approvers if a.email == email), None)

    def has_decided(self, email: str) -> bool:
        return any(d.approver == email for d in self.decisions)

    def awaits_decision_from(self, email: str) -> bool:
        """An approver of this still-pending request who has not decided yet."""
        return self.is_pending and self.approver(email) is not None and not self.has_decided(email)
