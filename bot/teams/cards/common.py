"""The phrases every Gatepass card shares: what is asked, the request's facts, how it was
decided and what became of the access. The same sentences on every copy of a request."""

from __future__ import annotations

from bot.teams.cards.elements import Element, Part, Run, fact, line, time_fact, utc
from core.domain.durations import describe_duration
from core.domain.lifecycle import Status
from core.domain.views import RequestView

PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams", "cli": "the Gatepass CLI"}


def what(view: RequestView) -> list[Part]:
    """``read`` on ``database analytics`` (prod-atlas)."""
    return [
        Run(view.permission, bold=True),
        " on ",
        Run(f"{view.resource_type} {view.resource_name}", bold=True),
        f" ({view.integration})",
    ]


def request_facts(view: RequestView, *, requester: bool = True) -> list[Element]:
    facts: list[Element] = []
    if requester:
        facts.append(fact("Requester", view.requester_name))
    facts += [
        fact("Integration", view.integration),
        fact("Resource", f"{view.resource_type} {view.resource_name}"),
        fact("Permission", view.permission),
        fact("Duration", describe_duration(view.duration)),
        fact("Request", Run(view.id, monospace=True)),
    ]
    if view.extends_request_id:
        facts.append(fact("Extends", Run(view.extends_request_id, monospace=True)))
    return facts


def justification(view: RequestView) -> Element:
    if not view.justification:
        return fact("Justification", Run("none given", subtle=True))
    return fact("Justification", view.justification)


def pending_until(view: RequestView) -> Element:
    return time_fact("Open until", view.pending_until)


def approvals_progress(view: RequestView) -> Element | None:
    if view.approvals_required <= 1:
        return None
    names = ", ".join(d.approver_name for d in view.approvals) or "nobody yet"
    return line(
        f"{len(view.approvals)} of {view.approvals_required} approvals so far: ",
        names,
        spacing="Small",
    )


def _where(platform: str | None) -> str:
    """`` in Slack`` when something happened on another platform than Teams."""
    if not platform or platform == "teams":
        return ""
    return f" in {PLATFORM_NAMES.get(platform, platform)}"


def decision_parts(view: RequestView) -> list[Part] | None:
    """How the request left pending: the same facts as on every other copy and platform."""
    by = view.decided_by_name or view.decided_by or ""
    at = f" at {utc(view.decided_at)}"
    status = view.status
    if status is Status.PENDING:
        return None
    if status is Status.DENIED:
        parts: list[Part] = ["❌ Denied by ", Run(by, bold=True), _where(view.decided_on) + at]
    elif status is Status.CANCELLED:
        return [f"🚫 Cancelled by the requester{_where(view.decided_on)}{at}"]
    elif status is Status.TIMED_OUT:
        return [f"⌛ Timed out{at}: nobody decided in time"]
    elif not view.decided_by:
        return [f"✅ Approved automatically{at}"]
    else:
        parts = ["✅ Approved by ", Run(by, bold=True), _where(view.decided_on) + at]
    if view.decision_reason:
        parts += [Run("\nReason: ", bold=True), view.decision_reason]
    return parts


def access_parts(view: RequestView) -> list[Part] | None:
    """What became of the access after an approval."""
    status = view.status
    if status in (Status.APPROVED, Status.GRANTING):
        return ["Granting the access…"]
    if status is Status.ACTIVE:
        return [f"Access active until {utc(view.ends_at)}"]
    if status is Status.EXPIRED:
        return [f"Access expired at {utc(view.ended_at)}"]
    if status is Status.REVOKED:
        reason: list[Part] = [" (", view.end_reason, ")"] if view.end_reason else []
        return [f"Access removed at {utc(view.ended_at)}", *reason]
    if status is Status.FAILED:
        return [Run("⚠️ Granting failed: ", bold=True), view.failure or "unknown error"]
    return None


def state_lines(view: RequestView) -> list[Element]:
    """The decision and the access, one line each (nothing while pending)."""
    found = [decision_parts(view), access_parts(view)]
    return [line(*parts, spacing="Small") for parts in found if parts]
