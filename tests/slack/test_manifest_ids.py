"""What the code registers agrees with ``manifest.yml`` and ``bot/slack/ids.py``, both ways.

Slack manifests declare slash commands, shortcut callbacks and bot events, not action ids; so:
the commands, shortcuts and events the listeners register are exactly the manifest's, and the
action ids, view callback ids and options the listeners register (plus the ids only ever
rendered) are exactly those declared in ``ids.py``. Every id a builder puts into blocks is
declared there too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack import ids
from bot.slack.actions import GROUPS
from bot.slack.blocks import render
from bot.slack.blocks.channel import channel_approval
from bot.slack.blocks.home import home_view
from bot.slack.blocks.modals import (
    extend_modal,
    reason_modal,
    request_modal,
    reveal_modal,
    revoke_modal,
)
from core.domain.channels import ChannelApproval
from core.domain.lifecycle import Status
from core.domain.messages import (
    AccessEnded,
    AccessReady,
    ApprovalRequested,
    ExpiryWarning,
    OwnerAlert,
    RequestOutcome,
    RequestReceived,
    ReviewRequested,
    ReviewState,
)
from core.domain.request_form import (
    ApproverPreview,
    Choice,
    RequestForm,
    Step,
    duration_choice,
    resource_choice,
)
from core.domain.views import ApproverView, RequestView

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class Recorder:
    """Stands in for the bolt app: records what each ``register`` asks to listen to."""

    registered: dict[str, set[str]] = field(default_factory=dict)

    def _record(self, kind: str, key: object) -> Callable[[Any], Any]:
        assert isinstance(key, str), f"{kind} registered with a non-literal matcher {key!r}"
        self.registered.setdefault(kind, set()).add(key)
        return lambda listener: listener

    def command(self, key: str) -> Callable[[Any], Any]:
        return self._record("command", key)

    def shortcut(self, key: str) -> Callable[[Any], Any]:
        return self._record("shortcut", key)

    def action(self, key: str) -> Callable[[Any], Any]:
        return self._record("action", key)

    def view(self, key: str) -> Callable[[Any], Any]:
        return self._record("view", key)

    def options(self, key: str) -> Callable[[Any], Any]:
        return self._record("options", key)

    def event(self, key: str) -> Callable[[Any], Any]:
        return self._record("event", key)


@dataclass
class _Deps:
    command: str = ids.COMMAND


@pytest.fixture(scope="module")
def registered() -> dict[str, set[str]]:
    recorder = Recorder()
    for group in GROUPS:
        group.register(recorder, _Deps())  # type: ignore[arg-type]
    return recorder.registered


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_commands_shortcuts_and_events_match_the_manifest(
    registered: dict[str, set[str]], manifest: dict[str, Any]
) -> None:
    features = manifest["features"]
    assert registered["command"] == {c["command"] for c in features["slash_commands"]}
    assert registered["shortcut"] == {s["callback_id"] for s in features["shortcuts"]}
    assert registered["event"] == set(manifest["settings"]["event_subscriptions"]["bot_events"])


def test_action_and_view_ids_match_ids_py(registered: dict[str, set[str]]) -> None:
    listened = registered["action"] | registered["options"] | registered["view"]
    declared = set(ids.ACTION_IDS) | set(ids.VIEW_CALLBACK_IDS)
    assert listened <= declared, listened - declared
    assert declared - listened == set(ids.RENDERED_ONLY)
    assert registered["options"] == {ids.RESOURCE_SELECT}
    assert registered["view"] == set(ids.VIEW_CALLBACK_IDS) - set(ids.RENDERED_ONLY)


def _ids_in(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key in ("action_id", "callback_id"):
            if isinstance(value.get(key), str) and value[key]:
                yield key, value[key]
        for item in value.values():
            yield from _ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids_in(item)


def _view(status: Status) -> RequestView:
    approver = ApproverView("bob@example.com", "Bob", "owner of cluster Cluster0")
    return RequestView(
        id="RABCDEFGHJ", flow="f", integration="prod-atlas", resource_type="database",
        resource_name="analytics", permission="read", duration=timedelta(hours=1),
        justification="why", requester="alice@example.com", requester_name="Alice",
        platform="slack", status=status, approvals_required=1, approvers=(approver,),
        decisions=(), created_at=NOW, pending_until=NOW + timedelta(days=1), decided_at=None,
        decided_by=None, decided_by_name=None, decided_on=None, decision_reason=None,
        starts_at=NOW, ends_at=NOW + timedelta(hours=1), ended_at=None, end_reason=None,
        failure=None, extends_request_id=None, username="gp-alice",
        connection={"connection_string": "mongodb+srv://x"}, password_waiting=True,
    )  # fmt: skip


def test_every_rendered_id_is_declared() -> None:
    pending, active = _view(Status.PENDING), _view(Status.ACTIVE)
    approver = pending.approvers[0]

    def chosen(choice: Choice) -> Step:
        return Step((choice,), choice, choice.value)

    form = RequestForm(
        integration=chosen(Choice("prod-atlas", "prod-atlas")),
        resource=chosen(resource_choice("database", "analytics")),
        resource_name="analytics",
        collection_shown=True,  # the collection input below a database
        permission=chosen(Choice("read", "read")),
        duration=chosen(duration_choice(timedelta(hours=1))),
        approvers=(ApproverPreview("Bob", "owner"),),
    )
    surfaces: list[Any] = [
        render(message).blocks
        for message in (
            ApprovalRequested(pending, approver),
            ApprovalRequested(active, approver, may_revoke=True),
            RequestReceived(pending),
            RequestOutcome(pending),
            AccessReady(active, password_waiting=True),
            ExpiryWarning(active),
            AccessEnded(active),
            OwnerAlert(active, "broken"),
            ReviewRequested(active, ReviewState(), "bob@example.com"),
        )
    ]
    surfaces.append(channel_approval(ChannelApproval(pending)).blocks)
    surfaces += [
        request_modal(form),
        reason_modal(view=pending, outcome="deny", private_metadata="{}"),
        reason_modal(view=pending, outcome="approve", private_metadata="{}"),
        extend_modal(view=active, durations=[timedelta(hours=1)], private_metadata="{}"),
        reveal_modal(view=active, password="p"),
        revoke_modal(view=active, private_metadata="{}"),
        home_view(me="bob@example.com", active=[active], pending=[pending], recent=[pending]),
    ]
    found: dict[str, set[str]] = {"action_id": set(), "callback_id": set()}
    for surface in surfaces:
        for key, value in _ids_in(surface):
            found[key].add(value)
    assert found["action_id"] <= set(ids.ACTION_IDS), found["action_id"] - set(ids.ACTION_IDS)
    assert found["callback_id"] <= set(ids.VIEW_CALLBACK_IDS)
    assert found["action_id"] == set(ids.ACTION_IDS)  # and every declared action is used
