"""The requester's cards about a request: received (with Cancel), decided, ended; and the
integration owners' alert."""

from __future__ import annotations

from bot.teams.cards import verbs
from bot.teams.cards.common import (
    approver_rows,
    fact,
    parts,
    pending_until,
    request_facts,
    state_lines,
    what,
)
from bot.teams.cards.elements import Element, Notice, Run, card, execute, heading, line, note
from core.domain import sentences
from core.domain.lifecycle import Status
from core.domain.messages import AccessEnded, OwnerAlert, RequestOutcome, RequestReceived
from core.domain.sentences import Fact, Said
from core.domain.views import RequestView


def _approvers(view: RequestView) -> list[Element]:
    if not view.approvers:
        return []
    heading_text = sentences.approvers_heading(view.approvals_required)
    return approver_rows(heading_text, ((a.name, a.reason) for a in view.approvers))


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


def outcome_card(message: RequestOutcome) -> Element:
    view = message.request
    body: list[Element] = [
        heading(f"Request {sentences.outcome(view)}"),
        line("Request ", Run(view.id, monospace=True), ": ", *what(view)),
        *state_lines(view),
    ]
    if view.status in (Status.APPROVED, Status.GRANTING) and not view.invited:
        body.append(note(sentences.GRANTING_NOTE))
    return card(body)


def ended_card(message: AccessEnded) -> Element:
    view = message.request
    lead = line("🔒 ", *parts(sentences.ended(view)))
    return card([heading("Access ended"), lead, fact(Fact("Request", Said(view.id, literal=True)))])


def owner_alert_card(message: OwnerAlert) -> Element:
    view = message.request
    body = [
        heading("⚠️ Gatepass needs attention"),
        line(message.problem),
        *request_facts(view),
        *state_lines(view),
    ]
    return card(body)
