"""A request form, narrowed step by step: integration → resource → permission → duration, then
who would approve. Both chat edges render what this returns, so Slack and Teams offer exactly
the same choices and ``submit`` accepts exactly what they offer.

A choice that is no longer offered is dropped; a step with a single option is chosen for the
person; the approvers are previewed with the same checks ``submit`` makes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from core.config.schema import AccessFlow
from core.context import Context
from core.domain.directory import Person
from core.domain.errors import GatepassError
from core.domain.routing import Routing
from core.storage.models import Resource
from core.use_cases import eligibility, requests
from core.use_cases.eligibility import Draft

T = TypeVar("T")


@dataclass(frozen=True)
class NarrowedForm:
    integrations: tuple[str, ...]
    integration: str | None = None
    resource: Resource | None = None
    permissions: tuple[str, ...] = ()
    permission: str | None = None
    durations: tuple[timedelta, ...] = ()
    duration: timedelta | None = None
    flow: AccessFlow | None = None
    routing: Routing | None = None
    problem: str | None = None

    @property
    def complete(self) -> bool:
        return bool(self.integration and self.resource and self.permission and self.duration)


def keep(chosen: T | None, offered: tuple[T, ...]) -> T | None:
    """The choice if it is still offered; the only option when there is just one."""
    if chosen is not None and chosen in offered:
        return chosen
    return offered[0] if len(offered) == 1 else None


async def _resource(
    ctx: Context, person: Person, integration: str, chosen: tuple[str, str] | None
) -> Resource | None:
    """The chosen resource, if it exists and this person may request something on it."""
    if chosen is None:
        return None
    kind, name = chosen
    try:
        async with ctx.store.reading() as session:
            found = await eligibility.resolve_resource(
                ctx, session, Draft(integration, kind, name, "", timedelta(0))
            )
    except GatepassError:
        return None
    return found if eligibility.permissions_for(ctx, person, integration, kind, name) else None


async def narrow(
    ctx: Context,
    person: Person,
    *,
    integration: str | None,
    resource: tuple[str, str] | None,
    permission: str | None,
    duration: timedelta | None,
) -> NarrowedForm:
    integrations = tuple(eligibility.integrations_for(ctx, person))
    form = NarrowedForm(integrations=integrations, integration=keep(integration, integrations))
    if form.integration is None:
        return form
    found = await _resource(ctx, person, form.integration, resource)
    if found is None:
        return form
    permissions = tuple(
        eligibility.permissions_for(ctx, person, form.integration, found.type, found.name)
    )
    chosen_permission = keep(permission, permissions)
    form = replace(form, resource=found, permissions=permissions, permission=chosen_permission)
    if chosen_permission is None:
        return form
    draft = Draft(form.integration, found.type, found.name, chosen_permission, timedelta(0))
    durations = tuple(eligibility.durations_for(ctx, person, draft))
    chosen_duration = keep(duration, durations)
    form = replace(form, durations=durations, duration=chosen_duration)
    if not durations:
        return form
    previewed = Draft(
        draft.integration,
        draft.resource_type,
        draft.resource_name,
        draft.permission,
        chosen_duration or durations[0],
        "(preview)",
    )
    try:
        async with ctx.store.reading() as session:
            flow, routing = await requests.preview(ctx, session, person, previewed)
    except GatepassError as error:
        return replace(form, problem=str(error))
    return replace(form, flow=flow, routing=routing)
