"""The request form, filled in step by step: integration → resource → permission → duration, then
who would approve. Both chat edges show what :func:`build` returns and hand what the person sent
to :func:`submit`, so Slack and Teams offer exactly the same choices, refuse the same inputs with
the same words, and ``requests.submit`` gets only what they offer.

A choice that is no longer offered is dropped; a step with a single option is chosen for the
person; the approvers are previewed with the same checks ``requests.submit`` makes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.domain import namespaces
from core.domain.directory import Person
from core.domain.durations import parse_duration
from core.domain.errors import GatepassError, InvalidRequest, NoApprovers
from core.domain.request_form import (
    COLLECTION_MISSING,
    NOTHING_TO_REQUEST,
    ApproverPreview,
    Choice,
    Draft,
    FormInput,
    RequestForm,
    ResourceKey,
    Step,
    collection_not_allowed,
    duration_choice,
    duration_value,
    integration_choice,
    no_collection,
    no_permission,
    permission_choice,
    pick,
    read_resource_value,
    resource_choice,
    resource_value,
)
from core.domain.sentences import short_name
from core.domain.views import RequestView
from core.storage import resources
from core.storage.models import Resource
from core.use_cases import eligibility, reads, requests

MAX_OFFERED_RESOURCES = 100
MAX_SEARCH_RESULTS = 100
MAX_SEARCH_TEXT = 100


async def build(ctx: Context, *, requester: str, filled: FormInput | None = None) -> RequestForm:
    """The form after what ``filled`` holds: the choices of each step, what stays chosen, and
    who would approve once a permission is chosen."""
    person = ctx.person(requester)
    filled = filled or FormInput()
    form = _integrations(ctx, person, filled)
    if form.integration.chosen is None:
        return form
    integration = form.integration.chosen.value
    async with ctx.store.reading() as session:
        listed = await _listed_resources(ctx, session, person, integration, filled.resource)
        step = pick(tuple(resource_choice(r.type, r.name) for r in listed), filled.resource)
        chosen = next((r for r in listed if _value(r) == _chosen_value(step)), None)
        key = ResourceKey(chosen.type, chosen.name) if chosen else None
        form, target = _collection(ctx, person, replace(form, resource=step), filled, key)
        form = _narrowed(ctx, person, form, filled, target)
        if chosen is not None and target is not None and form.duration.offered:
            if target.type != chosen.type:  # a named collection of the chosen database
                chosen = await eligibility.named_collection(session, integration, target.name)
            form = await _previewed(ctx, session, person, form, chosen)
    return form


async def submit(
    ctx: Context, *, requester: str, filled: FormInput, platform: str
) -> RequestView | RequestForm:
    """Submit what was filled in: the new request, or — for anything missing, not offered or
    not allowed — the form with the error beside its input (or as its problem), nothing stored.

    When the resource's value names it plainly, it is looked up once, by ``requests.submit``
    in its transaction; only a refused submission builds the whole form again to show it."""
    requester = ctx.person(requester).email
    drafted = await _drafted(ctx, requester, filled)
    if isinstance(drafted, RequestForm):
        return drafted
    return await submit_draft(
        ctx, requester=requester, draft=drafted, filled=filled, platform=platform
    )


@dataclass(frozen=True)
class Checked:
    """A submission that passed every check: the draft to store, and whether its requester
    approves it at once (a break-glass flow)."""

    draft: Draft
    break_glass: bool = False


async def validate(ctx: Context, *, requester: str, filled: FormInput) -> Checked | RequestForm:
    """Check what was filled in, reading only (nothing waits on a writer): what to hand to
    :func:`submit_draft` once the edge has answered, or the form with its errors."""
    requester = ctx.person(requester).email
    drafted = await _drafted(ctx, requester, filled)
    if isinstance(drafted, RequestForm):
        return drafted
    try:
        flow = await requests.check_submission(ctx, requester=requester, draft=drafted)
    except (InvalidRequest, NoApprovers) as error:
        return await _refused(ctx, requester, filled, error)
    return Checked(drafted, break_glass=flow.break_glass is not None)


def new_request_id() -> str:
    """An id for a request not stored yet, for an edge that shows it before storing it."""
    return requests.new_request_id()


async def submit_draft(
    ctx: Context,
    *,
    requester: str,
    draft: Draft,
    filled: FormInput,
    platform: str,
    request_id: str | None = None,
) -> RequestView | RequestForm:
    """Store a checked draft as a new request (checked again in the write): the request, or
    the form with the error when something changed in between."""
    try:
        return await requests.submit(
            ctx, requester=requester, draft=draft, platform=platform, request_id=request_id
        )
    except (InvalidRequest, NoApprovers) as error:
        return await _refused(ctx, requester, filled, error)


async def _drafted(ctx: Context, requester: str, filled: FormInput) -> Draft | RequestForm:
    """The draft the form makes of ``filled``, or the form with its errors."""
    person = ctx.person(requester)
    claimed = _claimed(ctx, person, filled)
    form = claimed or await build(ctx, requester=person.email, filled=filled)
    draft = form.to_draft()
    if isinstance(draft, Draft):
        return draft
    if claimed is None:
        return replace(form, errors=draft)
    full = await build(ctx, requester=person.email, filled=filled)
    errors = full.to_draft()
    return replace(full, errors=errors if isinstance(errors, dict) else draft)


async def _refused(
    ctx: Context, requester: str, filled: FormInput, error: InvalidRequest | NoApprovers
) -> RequestForm:
    field = error.field if isinstance(error, InvalidRequest) else None
    full = await build(ctx, requester=requester, filled=filled)
    return full.refused(field, str(error))


async def search_resources(
    ctx: Context,
    *,
    requester: str,
    integration: str,
    text: str,
    skip: int = 0,
    limit: int = MAX_SEARCH_RESULTS,
) -> list[Choice]:
    """Typeahead: the resources of ``integration`` this person may request, whose name holds
    ``text``; ``skip`` and ``limit`` page through them."""
    person = ctx.person(requester)
    skip, limit = max(0, skip), max(1, min(limit, MAX_SEARCH_RESULTS))
    typed = text.strip()[:MAX_SEARCH_TEXT]
    async with ctx.store.reading() as session:
        found = await eligibility.resources_for(
            ctx, session, person, integration, text=typed, limit=skip + limit
        )
    return [resource_choice(r.type, r.name) for r in found[skip:]]


async def again(ctx: Context, *, requester: str, request_id: str) -> FormInput:
    """The form filled in as an earlier request of ``requester``'s was ("Request again")."""
    return FormInput.of_draft(await reads.draft_again(ctx, request_id, viewer=requester))


# --------------------------------------------------------------------------- the steps


def _value(resource: Resource) -> str:
    return resource_value(resource.type, resource.name)


def _chosen_value(step: Step) -> str | None:
    return step.chosen.value if step.chosen else None


def _integrations(ctx: Context, person: Person, filled: FormInput) -> RequestForm:
    offered = tuple(integration_choice(n) for n in eligibility.integrations_for(ctx, person))
    form = RequestForm(
        integration=pick(offered, filled.integration), justification=filled.justification
    )
    return form if offered else replace(form, problem=NOTHING_TO_REQUEST)


def _collection(
    ctx: Context, person: Person, form: RequestForm, filled: FormInput, chosen: ResourceKey | None
) -> tuple[RequestForm, ResourceKey | None]:
    """The collection input below a chosen database, and what is requested: the resource, a
    collection of it named by the person, or (for a name that cannot be requested) nothing."""
    typed = filled.collection
    form = replace(form, collection=typed)
    if chosen is None or form.integration.chosen is None:
        return form, None
    integration = form.integration.chosen.value
    form = replace(form, resource_name=chosen.name)
    database = chosen.type == namespaces.DATABASE
    if not (database and eligibility.collections_in(ctx, person, integration, chosen.name)):
        if not typed:
            return form, chosen
        return replace(form, collection_problem=no_collection(f"{chosen.type} {chosen.name}")), None
    required = not eligibility.may_request(ctx, person, integration, chosen.type, chosen.name)
    form = replace(form, collection_shown=True, collection_required=required)
    if not typed and required:
        return replace(form, collection_problem=COLLECTION_MISSING), None
    if not typed:
        return form, chosen
    name = namespaces.namespace(chosen.name, typed)
    problem = namespaces.collection_problem(chosen.name, typed)
    if problem is None and not eligibility.may_request(
        ctx, person, integration, namespaces.COLLECTION, name
    ):
        problem = collection_not_allowed(name)
    if problem is not None:
        return replace(form, collection_problem=problem), None
    return form, ResourceKey(namespaces.COLLECTION, name)


def _narrowed(
    ctx: Context, person: Person, form: RequestForm, filled: FormInput, chosen: ResourceKey | None
) -> RequestForm:
    """The permission and duration steps once what is requested is known (from the config
    alone): the chosen resource, or a collection named in it."""
    if chosen is None or form.integration.chosen is None:
        return form
    integration = form.integration.chosen.value
    allowed = eligibility.permissions_for(ctx, person, integration, chosen.type, chosen.name)
    permission = pick(tuple(permission_choice(p) for p in allowed), filled.permission)
    form = replace(form, permission=permission)
    if not allowed:
        return replace(form, problem=no_permission(f"{chosen.type} {chosen.name}"))
    if permission.chosen is None:
        return form
    draft = Draft(integration, chosen.type, chosen.name, permission.chosen.value, timedelta(0))
    offered = tuple(duration_choice(d) for d in eligibility.durations_for(ctx, person, draft))
    return replace(form, duration=pick(offered, duration_value(filled.duration)))


def _claimed(ctx: Context, person: Person, filled: FormInput) -> RequestForm | None:
    """The form narrowed without reading the database, for a submission whose resource value
    names the resource plainly; None when only the database can tell."""
    form = _integrations(ctx, person, filled)
    key = read_resource_value(filled.resource)
    if form.integration.chosen is None or key is None or key.digest:
        return None
    if not _may_offer(ctx, person, form.integration.chosen.value, key):
        return None
    choice = resource_choice(key.type, key.name)
    step = Step((choice,), choice, filled.resource)
    form, target = _collection(ctx, person, replace(form, resource=step), filled, key)
    return _narrowed(ctx, person, form, filled, target)


def _may_offer(ctx: Context, person: Person, integration: str, key: ResourceKey) -> bool:
    """Whether the form may offer this resource: a flow covers it or a collection of it.
    Never a collection itself: one is named below its database, not chosen."""
    if key.type == namespaces.COLLECTION:
        return False
    if eligibility.may_request(ctx, person, integration, key.type, key.name):
        return True
    database = key.type == namespaces.DATABASE
    return database and eligibility.collections_in(ctx, person, integration, key.name)


async def _listed_resources(
    ctx: Context, session: AsyncSession, person: Person, integration: str, sent: str
) -> list[Resource]:
    """The resources to offer, and the one sent when this person may request it (it may come
    from a search, beyond the offered ones)."""
    offered = await eligibility.resources_for(
        ctx, session, person, integration, limit=MAX_OFFERED_RESOURCES
    )
    found = await _sent_resource(ctx, session, person, integration, sent)
    if found is None or any(_value(r) == _value(found) for r in offered):
        return offered
    return [found, *offered]


async def _sent_resource(
    ctx: Context, session: AsyncSession, person: Person, integration: str, sent: str
) -> Resource | None:
    key = read_resource_value(sent)
    if key is None:
        return None
    if key.digest:  # a long name: its start narrows the search, the digest picks it
        candidates = await eligibility.resources_for(
            ctx, session, person, integration, text=key.name[:MAX_SEARCH_TEXT], limit=50
        )
        return next((r for r in candidates if r.type == key.type and key.names(r.name)), None)
    found = await resources.get(session, integration, key.type, key.name)
    if found is None or not _may_offer(ctx, person, integration, key):
        return None
    return found


async def _previewed(
    ctx: Context, session: AsyncSession, person: Person, form: RequestForm, chosen: Resource
) -> RequestForm:
    """Who would approve: ``requests.preview``'s answer, or why nobody can."""
    offered = form.duration.chosen or form.duration.offered[0]
    draft = Draft(
        chosen.integration,
        chosen.type,
        chosen.name,
        _chosen_value(form.permission) or "",
        parse_duration(offered.value),
        "(preview)",
    )
    try:
        flow, routing = await requests.preview(ctx, session, person, draft, resource=chosen)
    except GatepassError as error:
        return replace(form, problem=str(error))
    return replace(
        form,
        justification_required=flow.require_justification,
        approvers=tuple(ApproverPreview(short_name(a.name), a.reason) for a in routing.approvers),
        automatic=routing.automatic,
        approvals_required=flow.approvals_required,
        break_glass_reason=flow.break_glass.min_reason_length if flow.break_glass else 0,
    )
