"""The request form's logic: read the inputs an ``Action.Execute`` carried, narrow what core
offers step by step (``eligibility``), preview who would approve (``requests.preview``), and
turn a finished form into a ``Draft`` for ``requests.submit``. Nothing is stored here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.teams.cards import verbs
from bot.teams.cards.form import ApproverPreview, Choices, RequestForm, resource_value
from core.context import Context
from core.domain.directory import Person
from core.domain.durations import parse_duration
from core.domain.errors import GatepassError
from core.use_cases import eligibility, request_form
from core.use_cases.eligibility import Draft

MAX_RESOURCE_CHOICES = 100
MAX_SEARCH_RESULTS = 15

_MISSING = {
    verbs.INTEGRATION: "Choose an integration.",
    verbs.RESOURCE: "Choose a resource.",
    verbs.PERMISSION: "Choose a permission.",
    verbs.DURATION: "Choose a duration.",
}


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def choices_from(data: Mapping[str, Any]) -> tuple[Choices, dict[str, str]]:
    """The inputs as sent, and the ones that could not be read."""
    errors: dict[str, str] = {}
    duration: timedelta | None = None
    if raw := _text(data, verbs.DURATION):
        try:
            duration = parse_duration(raw)
        except ValueError:
            errors[verbs.DURATION] = "Choose one of the offered durations."
    resource = _text(data, verbs.RESOURCE) or None
    if resource is not None and not split_resource(resource):
        errors[verbs.RESOURCE] = "Choose one of the offered resources."
        resource = None
    justification = data.get(verbs.JUSTIFICATION)
    return (
        Choices(
            integration=_text(data, verbs.INTEGRATION) or None,
            resource=resource,
            permission=_text(data, verbs.PERMISSION) or None,
            duration=duration,
            justification=justification if isinstance(justification, str) else "",
        ),
        errors,
    )


def split_resource(value: str) -> tuple[str, str] | None:
    kind, separator, name = value.partition(":")
    return (kind, name) if separator and kind and name else None


async def _resource_choices(
    ctx: Context, person: Person, integration: str, chosen: str | None
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The resources to offer, and the chosen one if this person may request it (it may come
    from typeahead, beyond the offered list)."""
    async with ctx.store.reading() as session:
        offered = await eligibility.resources_for(
            ctx, session, person, integration, limit=MAX_RESOURCE_CHOICES
        )
        listed = tuple((f"{r.type} {r.name}", resource_value(r.type, r.name)) for r in offered)
        values = tuple(value for _, value in listed)
        if chosen is None or chosen in values:
            return listed, request_form.keep(chosen, values)
        kind, name = split_resource(chosen) or ("", "")
        try:
            await eligibility.resolve_resource(
                ctx, session, Draft(integration, kind, name, "", timedelta(0))
            )
        except GatepassError:
            return listed, None
    if not eligibility.permissions_for(ctx, person, integration, kind, name):
        return listed, None
    return ((f"{kind} {name}", chosen), *listed), chosen


async def build_form(
    ctx: Context, person: Person, choices: Choices, *, errors: Mapping[str, str] | None = None
) -> RequestForm:
    """What core offers after ``choices`` (``core.use_cases.request_form.narrow``), for the card."""
    integrations = tuple(eligibility.integrations_for(ctx, person))
    if not integrations:
        return RequestForm(
            choices=choices,
            errors=dict(errors or {}),
            problem="No access flow lets you request access to anything.",
        )
    integration = request_form.keep(choices.integration, integrations)
    resources: tuple[tuple[str, str], ...] = ()
    resource = None
    if integration is not None:
        resources, resource = await _resource_choices(ctx, person, integration, choices.resource)
    narrowed = await request_form.narrow(
        ctx,
        person,
        integration=integration,
        resource=split_resource(resource) if resource else None,
        permission=choices.permission,
        duration=choices.duration,
    )
    kept = replace(
        choices,
        integration=narrowed.integration,
        resource=resource if narrowed.resource else None,
        permission=narrowed.permission,
        duration=narrowed.duration,
    )
    flow, routing = narrowed.flow, narrowed.routing
    return RequestForm(
        choices=kept,
        integrations=narrowed.integrations,
        resources=resources,
        permissions=narrowed.permissions,
        durations=narrowed.durations,
        errors=dict(errors or {}),
        justification_required=bool(flow and flow.require_justification),
        approvers=tuple(ApproverPreview(a.name, a.reason) for a in routing.approvers)
        if routing
        else (),
        automatic=bool(routing and routing.automatic),
        approvals_required=flow.approvals_required if flow else 1,
        problem=narrowed.problem,
    )


def draft_from(sent: Choices, form: RequestForm) -> Draft | dict[str, str]:
    """The draft to submit: what was sent, completed with what the form chose by itself (a
    single option). Core checks it; missing inputs come back as errors."""
    integration = sent.integration or form.choices.integration
    resource = sent.resource or form.choices.resource
    permission = sent.permission or form.choices.permission
    duration = sent.duration or form.choices.duration
    chosen = {
        verbs.INTEGRATION: integration,
        verbs.RESOURCE: resource,
        verbs.PERMISSION: permission,
        verbs.DURATION: duration,
    }
    missing = next((key for key, value in chosen.items() if not value), None)
    if missing is not None:
        return {missing: _MISSING[missing]}
    kind, name = split_resource(resource or "") or ("", "")
    return Draft(
        integration=integration or "",
        resource_type=kind,
        resource_name=name,
        permission=permission or "",
        duration=duration or timedelta(0),
        justification=sent.justification,
    )


async def search_resources(
    ctx: Context, person: Person, integration: str, text: str, *, skip: int = 0, top: int = 15
) -> list[tuple[str, str]]:
    """Typeahead over the resources this person may request in ``integration``."""
    top = max(1, min(top, MAX_SEARCH_RESULTS))
    async with ctx.store.reading() as session:
        found = await eligibility.resources_for(
            ctx, session, person, integration, text=text.strip()[:100], limit=skip + top
        )
    return [(f"{r.type} {r.name}", resource_value(r.type, r.name)) for r in found[skip:]]
