"""The requester's cards about a request: received (with Cancel), decided, ended; and the
integration owners' alert."""

from __future__ import annotations

from bot.teams.cards import verbs
from bot.teams.cards.common import pending_until, request_facts, state_lines, what
from bot.teams.cards.elements import (
    Element,
    Notice,
    Run,
    card,
    execute,
    fact,
    heading,
    line,
    note,
    utc,
)
from core.domain.lifecycle import Status
from core.domain.messages import AccessEnded, OwnerAlert, RequestOutcome, RequestReceived
from core.domain.views import RequestView


def _approvers(view: RequestView) -> list[Element]:
    if not view.approvers:
        return []
    label = (
        "Approvers"
        if view.approvals_required <= 1
        else f"Approvers ({view.approvals_required} must approve)"
    )
    rows = [
        line("• ", Run(a.name, bold=True), " — ", a.reason, spacing="None") for a in view.approvers
    ]
    return [line(Run(label, bold=True), spacing="Medium"), *rows]


def receipt_card(message: RequestReceived, *, notice: Notice | None = None) -> Element:
    view = message.request
    lead = "Your request is in: " if view.is_pending else "Your request: "
    body: list[Element] = [
        heading(f"Request {view.id}"),
        line(lead, *what(view)),
        *request_facts(view, requester=False),
        *_approvers(view),
    ]
    if notice:
        body.append(notice.element())
    actions: list[Element] = []
    if view.is_pending:
        body.append(pending_until(view))
        body.append(note("You will get a message here when it is decided."))
        actions = [execute("Cancel request", verb=verbs.CANCEL, data={verbs.REQUEST: view.id})]
    else:
        body += state_lines(view)
    return card(body, actions=actions)


_OUTCOME_TITLES = {
    Status.DENIED: "Request denied",
    Status.CANCELLED: "Request cancelled",
    Status.TIMED_OUT: "Request timed out",
    Status.FAILED: "Access could not be granted",
}


def outcome_card(message: RequestOutcome) -> Element:
    view = message.request
    body: list[Element] = [
        heading(_OUTCOME_TITLES.get(view.status, "Request approved")),
        line("Request ", Run(view.id, monospace=True), ": ", *what(view)),
        *state_lines(view),
    ]
    if view.status in (Status.APPROVED, Status.GRANTING):
        body.append(note("Gatepass is granting the access; the details follow here."))
    return card(body)


def ended_card(message: AccessEnded) -> Element:
    view = message.request
    if view.status is Status.EXPIRED:
        lead = line("🔒 Your ", *what(view), f" access expired at {utc(view.ended_at)}.")
    else:
        reason = [": ", view.end_reason] if view.end_reason else ["."]
        lead = line(
            "🔒 Your ", *what(view), f" access was removed at {utc(view.ended_at)}", *reason
        )
    return card([heading("Access ended"), lead, fact("Request", Run(view.id, monospace=True))])


def owner_alert_card(message: OwnerAlert) -> Element:
    view = message.request
    body = [
        heading("⚠️ Gatepass needs attention"),
        line(message.problem),
        *request_facts(view),
        *state_lines(view),
    ]
    return card(body)
