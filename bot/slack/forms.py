"""The request modal's state: what the person chose so far, read from a view's state, and the
choices core offers them next (``eligibility``) with who would approve (``requests.preview``).

Each input's ``block_id`` carries a digest of the choices above it (``resource-3f2a…`` depends
on the integration). Changing an integration therefore gives the resource input a new block id,
and Slack drops the stale resource instead of keeping it; reading the state back, a value under
an outdated block id is ignored for the same reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.slack import ids, text
from core.context import Context
from core.domain.directory import Person
from core.domain.durations import format_duration, parse_duration
from core.domain.errors import GatepassError
from core.domain.routing import Approver
from core.storage.models import Resource
from core.use_cases import eligibility, request_form
from core.use_cases.eligibility import Draft

INTEGRATION, RESOURCE, PERMISSION, DURATION, JUSTIFICATION = (
    "integration",
    "resource",
    "permission",
    "duration",
    "justification",
)
FIELDS = (INTEGRATION, RESOURCE, PERMISSION, DURATION, JUSTIFICATION)
ACTION_OF = {
    INTEGRATION: ids.INTEGRATION_SELECT,
    RESOURCE: ids.RESOURCE_SELECT,
    PERMISSION: ids.PERMISSION_SELECT,
    DURATION: ids.DURATION_SELECT,
    JUSTIFICATION: ids.JUSTIFICATION_INPUT,
}
_DIGEST = "#"


@dataclass(frozen=True)
class Choices:
    """What is filled in. ``resource`` is the option value (see :func:`resource_value`)."""

    integration: str | None = None
    resource: str | None = None
    permission: str | None = None
    duration: timedelta | None = None
    justification: str = ""

    def _upstream(self, field: str) -> tuple[str, ...]:
        chain = (self.integration, self.resource, self.permission)
        depth = {INTEGRATION: 0, RESOURCE: 1, PERMISSION: 2, DURATION: 3}.get(field, 0)
        return tuple(value or "" for value in chain[:depth])

    def block_id(self, field: str) -> str:
        upstream = self._upstream(field)
        if not upstream:
            return field
        digest = hashlib.sha256("\x1f".join(upstream).encode()).hexdigest()[:10]
        return f"{field}-{digest}"


def resource_value(resource_type: str, name: str) -> str:
    """``database:analytics``; a digest when that would pass Slack's 150-character limit."""
    plain = f"{resource_type}:{name}"
    if len(plain) <= text.MAX_OPTION_VALUE:
        return plain
    return f"{resource_type}{_DIGEST}{hashlib.sha256(name.encode()).hexdigest()}"


def _split(value: str) -> tuple[str, str, str]:
    """(type, separator, rest): the type never holds ``:`` or ``#``."""
    cut = min((i for i in (value.find(":"), value.find(_DIGEST)) if i >= 0), default=-1)
    if cut <= 0:
        return "", "", ""
    return value[:cut], value[cut], value[cut + 1 :]


def _selected(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    element = (values.get(block_id) or {}).get(action_id) or {}
    chosen = element.get("selected_option") or {}
    value = chosen.get("value") if isinstance(chosen, dict) else None
    return value if isinstance(value, str) and value else None


def choices_from_state(values: dict[str, Any]) -> Choices:
    """What a view's ``state.values`` holds, ignoring values under outdated block ids."""
    choices = Choices()
    integration = _selected(values, choices.block_id(INTEGRATION), ACTION_OF[INTEGRATION])
    choices = replace(choices, integration=integration)
    if choices.integration:
        choices = replace(
            choices, resource=_selected(values, choices.block_id(RESOURCE), ACTION_OF[RESOURCE])
        )
    if choices.resource:
        choices = replace(
            choices,
            permission=_selected(values, choices.block_id(PERMISSION), ACTION_OF[PERMISSION]),
        )
    if choices.permission:
        picked = _selected(values, choices.block_id(DURATION), ACTION_OF[DURATION])
        try:
            duration = parse_duration(picked) if picked else None
        except ValueError:
            duration = None
        choices = replace(choices, duration=duration)
    typed = (values.get(JUSTIFICATION) or {}).get(ids.JUSTIFICATION_INPUT) or {}
    return replace(choices, justification=str(typed.get("value") or ""))


def choices_from_draft(draft: Draft) -> Choices:
    return Choices(
        integration=draft.integration,
        resource=resource_value(draft.resource_type, draft.resource_name),
        permission=draft.permission,
        duration=draft.duration,
        justification=draft.justification,
    )


def error_block(values: dict[str, Any], choices: Choices, field: str | None) -> str:
    """The block id to show an error on: the field's input as it is in the view, else the
    nearest input above it (an error never points at a block the view does not have)."""
    field = field if field in FIELDS else RESOURCE
    present = {
        action_id: block_id
        for block_id, elements in values.items()
        for action_id in (elements or {})
    }
    order = [field, *reversed(FIELDS[: FIELDS.index(field)]), JUSTIFICATION]
    for candidate in order:
        if ACTION_OF[candidate] in present:
            return present[ACTION_OF[candidate]]
    return choices.block_id(field)


# --------------------------------------------------------------------------- what core offers


@dataclass(frozen=True)
class RequestForm:
    choices: Choices
    integrations: tuple[str, ...] = ()
    resource: Resource | None = None
    permissions: tuple[str, ...] = ()
    durations: tuple[timedelta, ...] = ()
    justification_required: bool = False
    approvers: tuple[Approver, ...] = ()
    automatic: bool = False
    approvals_required: int = 1
    problem: str | None = None

    @property
    def complete(self) -> bool:
        c = self.choices
        return bool(c.integration and self.resource and c.permission and c.duration)


async def find_resource(
    ctx: Context, person: Person, integration: str, value: str | None
) -> Resource | None:
    """The resource an option value names, among those this person may request."""
    if not value:
        return None
    kind, separator, rest = _split(value)
    if not kind:
        return None
    async with ctx.store.reading() as session:
        if separator == ":":
            found = await eligibility.resolve_resource(
                ctx, session, Draft(integration, kind, rest, "", timedelta(0))
            )
            return found
        candidates = await eligibility.resources_for(ctx, session, person, integration, limit=5000)
    return next((r for r in candidates if resource_value(r.type, r.name) == value), None)


async def resources_matching(
    ctx: Context, person: Person, integration: str, typed: str, *, limit: int = 100
) -> list[Resource]:
    async with ctx.store.reading() as session:
        return await eligibility.resources_for(
            ctx, session, person, integration, text=typed.strip()[:100], limit=limit
        )


async def build_form(ctx: Context, person: Person, choices: Choices) -> RequestForm:
    """What core offers after ``choices`` (``request_form.narrow``), for the modal."""
    integration = choices.integration
    try:
        found = (
            await find_resource(ctx, person, integration, choices.resource) if integration else None
        )
    except GatepassError as error:
        found, problem = None, str(error)
    else:
        problem = None
    narrowed = await request_form.narrow(
        ctx,
        person,
        integration=integration,
        resource=(found.type, found.name) if found else None,
        permission=choices.permission,
        duration=choices.duration,
    )
    kept = replace(
        choices,
        integration=narrowed.integration,
        resource=choices.resource if narrowed.resource else None,
        permission=narrowed.permission,
        duration=narrowed.duration,
    )
    routing, flow = narrowed.routing, narrowed.flow
    return RequestForm(
        choices=kept,
        integrations=narrowed.integrations,
        resource=narrowed.resource,
        permissions=narrowed.permissions,
        durations=narrowed.durations,
        justification_required=bool(flow and flow.require_justification),
        approvers=routing.approvers if routing else (),
        automatic=bool(routing and routing.automatic),
        approvals_required=flow.approvals_required if flow else 1,
        problem=problem or narrowed.problem,
    )


def duration_value(duration: timedelta) -> str:
    return format_duration(duration)
