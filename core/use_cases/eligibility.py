"""What a person may request: the choices a request form offers, narrowed step by step
(integration → resource → permission → duration), and the flow that a finished draft matches.

Both chat edges build their forms from these functions, so Slack and Teams offer exactly the
same choices and ``submit`` accepts exactly what they offer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.config.schema import AccessFlow
from core.context import Context
from core.domain import namespaces, permissions
from core.domain.directory import Person, matches_any
from core.domain.errors import DurationTooLong, InvalidRequest, NoMatchingFlow, UnknownResource
from core.domain.request_form import Draft, longest
from core.storage import resources
from core.storage.models import Resource


def flows_for_person(
    ctx: Context, person: Person, integration: str | None = None
) -> list[AccessFlow]:
    return [
        flow
        for flow in ctx.config.access_flows
        if matches_any(person, flow.requestors)
        and (integration is None or flow.integration == integration)
    ]


def integrations_for(ctx: Context, person: Person) -> list[str]:
    """Integrations some flow lets this person use (and that are configured and running)."""
    names = dict.fromkeys(flow.integration for flow in flows_for_person(ctx, person))
    return [name for name in names if name in ctx.integrations]


async def resources_for(
    ctx: Context,
    session: AsyncSession,
    person: Person,
    integration: str,
    *,
    text: str = "",
    limit: int = 100,
) -> list[Resource]:
    flows = flows_for_person(ctx, person, integration)
    types = {kind for flow in flows for kind, _ in flow.resource_patterns()}
    if namespaces.COLLECTION in types:  # collections are named in the databases holding them
        types.add(namespaces.DATABASE)
    if not types:
        return []
    found = await resources.search(
        session, integration, types=sorted(types), text=text, limit=limit * 4
    )
    return [r for r in found if any(_offers(f, r) for f in flows)][:limit]


def _offers(flow: AccessFlow, resource: Resource) -> bool:
    """The flow covers the resource, or some collection of it (for a database)."""
    if flow.covers(resource.type, resource.name):
        return True
    return resource.type == namespaces.DATABASE and _reaches_into(flow, resource.name)


def _reaches_into(flow: AccessFlow, database: str) -> bool:
    return any(
        kind == namespaces.COLLECTION and namespaces.reaches_into(glob, database)
        for kind, glob in flow.resource_patterns()
    )


def collections_in(ctx: Context, person: Person, integration: str, database: str) -> bool:
    """Whether some flow lets this person request a collection of ``database`` (named by
    them: collections are never discovered)."""
    return any(_reaches_into(f, database) for f in flows_for_person(ctx, person, integration))


def _flows_covering(
    ctx: Context, person: Person, integration: str, resource_type: str, resource_name: str
) -> list[AccessFlow]:
    return [
        f
        for f in flows_for_person(ctx, person, integration)
        if f.covers(resource_type, resource_name)
    ]


def may_request(
    ctx: Context, person: Person, integration: str, resource_type: str, resource_name: str
) -> bool:
    """Whether some flow lets this person request something on this resource."""
    return bool(_flows_covering(ctx, person, integration, resource_type, resource_name))


def permissions_for(
    ctx: Context, person: Person, integration: str, resource_type: str, resource_name: str
) -> list[str]:
    kind = ctx.integration_config(integration).type
    found: dict[str, None] = {}
    for flow in _flows_covering(ctx, person, integration, resource_type, resource_name):
        for permission in flow.permissions:
            if permissions.permission_applies(kind, resource_type, permission):
                found.setdefault(permission)
    return list(found)


def flows_allowing(ctx: Context, person: Person, draft: Draft) -> list[AccessFlow]:
    return [
        f
        for f in _flows_covering(
            ctx, person, draft.integration, draft.resource_type, draft.resource_name
        )
        if draft.permission in f.permissions
    ]


def durations_for(ctx: Context, person: Person, draft: Draft) -> list[timedelta]:
    return sorted({d for flow in flows_allowing(ctx, person, draft) for d in flow.durations})


async def resolve_resource(ctx: Context, session: AsyncSession, draft: Draft) -> Resource:
    ctx.integration_config(draft.integration)
    resource = await resources.get(
        session, draft.integration, draft.resource_type, draft.resource_name
    )
    if resource is None and draft.resource_type == namespaces.COLLECTION:
        return await named_collection(session, draft.integration, draft.resource_name)
    if resource is None:
        raise UnknownResource(f"{draft.resource_type} {draft.resource_name}", draft.integration)
    return resource


async def named_collection(session: AsyncSession, integration: str, name: str) -> Resource:
    """A collection a requester named (``database.collection``), as a resource whose parent
    is its discovered database, so that routing reads the database's, then the cluster's, then
    the project's owner tags. Never stored."""
    problem = namespaces.namespace_problem(name)
    parts = namespaces.split(name)
    if problem is not None or parts is None:
        raise InvalidRequest(problem or name, field=namespaces.COLLECTION)
    database = await resources.get(session, integration, namespaces.DATABASE, parts[0])
    if database is None:
        raise UnknownResource(f"database {parts[0]}", integration)
    return Resource(
        integration=integration,
        type=namespaces.COLLECTION,
        name=name,
        parent=f"{namespaces.DATABASE}:{database.name}",
        discovered_at=database.discovered_at,
    )


def choose_flow(ctx: Context, person: Person, draft: Draft) -> AccessFlow:
    """The first flow (in config order) that allows the whole draft; a precise error if none."""
    if not flows_for_person(ctx, person, draft.integration):
        raise NoMatchingFlow(
            f"No access flow lets you request access to {draft.integration}.", field="integration"
        )
    kind = ctx.integration_config(draft.integration).type
    if not permissions.permission_applies(kind, draft.resource_type, draft.permission):
        raise NoMatchingFlow(
            f"{draft.permission} cannot be granted on a {draft.resource_type}.", field="permission"
        )
    if not _flows_covering(
        ctx, person, draft.integration, draft.resource_type, draft.resource_name
    ):
        raise NoMatchingFlow(
            f"No access flow lets you request {draft.resource_type} {draft.resource_name}.",
            field="resource",
        )
    candidates = flows_allowing(ctx, person, draft)
    if not candidates:
        raise NoMatchingFlow(
            f"No access flow lets you request {draft.permission} on {draft.resource_type} "
            f"{draft.resource_name}.",
            field="permission",
        )
    if draft.duration <= timedelta(0):
        raise DurationTooLong("The duration must be positive.", field="duration")
    fitting = [f for f in candidates if draft.duration <= f.max_duration]
    if not fitting:
        most = max(f.max_duration for f in candidates)
        raise DurationTooLong(longest(most), field="duration")
    return fitting[0]
