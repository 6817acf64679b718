"""The card builders, pure: Adaptive Card 1.5 with Action.Execute only, and whatever a person
typed or Atlas named lands in TextRuns (never parsed as markdown), never in a TextBlock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.teams.cards.access import ready_card, warning_card
from bot.teams.cards.approval import ApprovalOptions, approval_card
from bot.teams.cards.elements import clean, refresh, when
from bot.teams.cards.form import request_form_card
from bot.teams.cards.lists import help_card, my_requests_card, pending_intro_card
from bot.teams.cards.requester import ended_card, outcome_card, owner_alert_card, receipt_card
from core.config.secrets import SecretValue
from core.domain.lifecycle import Status
from core.domain.messages import (
    AccessEnded,
    AccessReady,
    ApprovalRequested,
    ExpiryWarning,
    OwnerAlert,
    RequestOutcome,
    RequestReceived,
)
from core.domain.request_form import (
    ApproverPreview,
    Choice,
    RequestForm,
    Step,
    duration_choice,
    permission_choice,
    resource_choice,
)
from core.domain.views import ApproverView, DecisionView, RequestView
from tests.teams.harness import walk

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LINK = "[click](https://evil.example)"
HOSTILE = f"{LINK} **now** _x_ <at>everyone</at> {{{{DATE(2020-01-01T00:00:00Z)}}}}"


def view(status: Status = Status.PENDING, **changes: Any) -> RequestView:
    approver = ApproverView("bob@example.com", f"Bob {LINK}", f"owner via tag owner={LINK}")
    decided = status not in (Status.PENDING,)
    fields: dict[str, Any] = {
        "id": "RABCDEFGH2",
        "flow": "analytics-read",
        "integration": "prod-atlas",
        "resource_type": "database",
        "resource_name": f"sales{LINK}",
        "permission": "read",
        "duration": timedelta(hours=1),
        "justification": HOSTILE,
        "requester": "alice@example.com",
        "requester_name": f"Alice {LINK}",
        "platform": "teams",
        "status": status,
        "approvals_required": 1,
        "approvers": (approver,),
        "decisions": (
            (DecisionView("bob@example.com", "Bob", "deny", HOSTILE, "slack", T0),)
            if decided
            else ()
        ),
        "created_at": T0,
        "pending_until": T0 + timedelta(hours=24),
        "decided_at": T0 if decided else None,
        "decided_by": "bob@example.com" if decided else None,
        "decided_by_name": f"Bob {LINK}" if decided else None,
        "decided_on": "slack" if decided else None,
        "decision_reason": HOSTILE if decided else None,
        "starts_at": T0 if status is Status.ACTIVE else None,
        "ends_at": T0 + timedelta(hours=1) if status is Status.ACTIVE else None,
        "ended_at": None,
        "end_reason": None,
        "failure": None,
        "extends_request_id": None,
        "username": "gp-alice",
        "connection": {"connection_string": f"mongodb+srv://x{LINK}", "notes": [HOSTILE]},
        "password_waiting": status is Status.ACTIVE,
    }
    fields.update(changes)
    return RequestView(**fields)


PENDING, DENIED, ACTIVE = view(), view(Status.DENIED), view(Status.ACTIVE)
APPROVER = PENDING.approvers[0]


def chosen(choice: Choice) -> Step:
    return Step((choice,), choice, choice.value)


FORM = RequestForm(
    integration=chosen(Choice("prod-atlas", "prod-atlas")),
    resource=chosen(resource_choice("database", f"sales{LINK}")),
    resource_name=f"sales{LINK}",
    permission=chosen(permission_choice("read")),
    duration=chosen(duration_choice(timedelta(hours=1))),
    justification=HOSTILE,
    approvers=(ApproverPreview(f"Bob {LINK}", f"owner {LINK}"),),
    problem=HOSTILE,
    errors={"justification": HOSTILE},
)

BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "approval pending": lambda: approval_card(
        ApprovalRequested(PENDING, APPROVER), ApprovalOptions(refresh_user_ids=("aad-bob",))
    ),
    "approval denied": lambda: approval_card(ApprovalRequested(DENIED, APPROVER)),
    "receipt": lambda: receipt_card(RequestReceived(PENDING)),
    "outcome": lambda: outcome_card(RequestOutcome(DENIED)),
    "ready": lambda: ready_card(AccessReady(ACTIVE, password_waiting=True)),
    "warning": lambda: warning_card(ExpiryWarning(ACTIVE), durations=[timedelta(hours=1)]),
    "ended": lambda: ended_card(AccessEnded(view(Status.REVOKED, ended_at=T0, end_reason=HOSTILE))),
    "owner alert": lambda: owner_alert_card(OwnerAlert(DENIED, HOSTILE)),
    "form": lambda: request_form_card(FORM),
    "list": lambda: my_requests_card([PENDING, DENIED], [ACTIVE]),
    "pending": lambda: pending_intro_card(3, 2),
    "help": help_card,
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_cards_are_adaptive_cards_1_5_with_universal_actions(
    build: Callable[[], dict[str, Any]],
) -> None:
    card = build()
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.5")
    for action in card.get("actions", []):
        assert action["type"] == "Action.Execute" and action["verb"]
    json.dumps(card)  # plain JSON


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_user_text_never_reaches_a_parsed_text_block(build: Callable[[], dict[str, Any]]) -> None:
    card = build()
    for node in walk(card["body"]):
        if node.get("type") == "TextBlock":
            assert "evil" not in node["text"] and "<at>" not in node["text"], node
        if node.get("type") == "FactSet":
            pytest.fail("facts are parsed as markdown by some hosts; use fact() rows")
    shown = json.dumps(card)
    if "evil" in shown:  # the hostile text is shown, as it was written, in TextRuns only
        runs = [n["text"] for n in walk(card["body"]) if n.get("type") == "TextRun"]
        inputs = [
            json.dumps(n) for n in walk(card["body"]) if str(n.get("type")).startswith("Input.")
        ]
        assert any("evil" in text for text in runs + inputs)


def test_the_hostile_justification_is_shown_as_written() -> None:
    card = approval_card(ApprovalRequested(PENDING, APPROVER))
    runs = [n["text"] for n in walk(card["body"]) if n.get("type") == "TextRun"]
    assert HOSTILE in runs


def test_cleaning_and_time_helpers() -> None:
    assert clean("db\u202eevil\u2066x\x00") == "dbevilx"
    assert clean("x" * 3000).endswith("…") and len(clean("x" * 3000)) == 2000
    assert when(T0) == "{{DATE(2026-11-23T10:00:00Z, SHORT)}} {{TIME(2026-11-23T10:00:00Z)}}"


def test_refresh_lists_each_user_once_and_is_left_out_for_nobody() -> None:
    assert refresh(verb="v", data={}, user_ids=()) is None
    block = refresh(verb="v", data={"request": "R"}, user_ids=["a", "b", "a", ""])
    assert block is not None and block["userIds"] == ["a", "b"]
    many = refresh(verb="v", data={}, user_ids=[str(i) for i in range(100)])
    assert many is not None and len(many["userIds"]) == 60


def test_final_and_foreign_approval_cards_have_no_buttons_or_refresh() -> None:
    final = approval_card(ApprovalRequested(DENIED, APPROVER), ApprovalOptions(("aad",)))
    assert "actions" not in final and "refresh" not in final
    stranger = ApproverView("dave@example.com", "Dave", "")
    foreign = approval_card(ApprovalRequested(PENDING, stranger), ApprovalOptions(("aad",)))
    assert "actions" not in foreign and "refresh" in foreign


def test_the_password_is_only_on_the_reveal_answer() -> None:
    message = AccessReady(ACTIVE, password_waiting=True)
    assert "s3cr3t-pw" not in json.dumps(ready_card(message))
    revealed = ready_card(message, password=SecretValue("s3cr3t-pw*[x](y)"))
    runs = [n for n in walk(revealed["body"]) if n.get("type") == "TextRun"]
    assert {"type": "TextRun", "text": "s3cr3t-pw*[x](y)", "fontType": "Monospace"} in runs
    verbs = [a["verb"] for a in revealed["actions"]]
    assert verbs == ["password.hide", "access.done"]
