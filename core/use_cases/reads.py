"""Every read of requests the edges make, each with the person who looks.

``request_for`` is the one door to a single request: it answers a party of that request — its
requester, one of its approvers (escalation approvers included), an owner of its integration —
or an administrator at the CLI, and refuses everyone else with ``NotAParty``, the same way
whether the request exists or not. The lists take the viewer as their subject, so they hold
only the viewer's own requests, decisions and access. Everything else an edge needs to render a
request (extension choices, whether an approval needs a reason, a "request again" draft) is
read through the door too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.context import Context
from core.domain.directory import normalize_email
from core.domain.errors import (
    GatepassError,
    NotAParty,
    NotTheRequester,
    RequestNotFound,
)
from core.domain.request_form import Draft
from core.domain.routing import integration_owners
from core.domain.views import RequestView
from core.storage import request_views
from core.use_cases import eligibility, requests

MAX_REQUEST_ID = 64
"""Longer than any request id: such a value is refused without a look in the database."""


@dataclass(frozen=True)
class HomeSummary:
    """What a person's home shows: their access, what waits for their decision, their requests.

    ``active`` and ``pending`` hold one more than asked for when there are more, so the home
    can say so; ``recent`` holds at most as many as asked for.
    """

    active: list[RequestView]
    pending: list[RequestView]
    recent: list[RequestView]


@dataclass(frozen=True)
class Extension:
    """An active request its requester may extend, and for how long they may ask."""

    request: RequestView
    durations: tuple[timedelta, ...]


def is_party(ctx: Context, view: RequestView, viewer: str) -> bool:
    """The viewer asked for the request, approves it, or owns its integration."""
    viewer = normalize_email(viewer)
    if viewer == view.requester or view.approver(viewer) is not None:
        return True
    try:
        integration = ctx.integration_config(view.integration)
    except GatepassError:  # the integration left the config: nobody owns it any more
        return False
    return any(owner.email == viewer for owner in integration_owners(integration, ctx.directory))


async def request_for(
    ctx: Context, request_id: str, *, viewer: str, as_admin: bool = False
) -> RequestView:
    """The request as ``viewer`` may see it; ``NotAParty`` unless they are one of its parties.

    ``as_admin`` (the CLI only) sees every request, and is told when there is no such one.
    """
    if as_admin:
        async with ctx.store.reading() as session:
            return await request_views.load_view(session, ctx.directory, request_id)
    viewer = ctx.person(viewer).email
    if not isinstance(request_id, str) or not request_id or len(request_id) > MAX_REQUEST_ID:
        raise NotAParty()
    try:
        async with ctx.store.reading() as session:
            view = await request_views.load_view(session, ctx.directory, request_id)
    except RequestNotFound:
        raise NotAParty() from None
    if not is_party(ctx, view, viewer):
        raise NotAParty()
    return view


async def my_requests(ctx: Context, *, viewer: str, limit: int = 20) -> list[RequestView]:
    """The viewer's own requests, newest first."""
    viewer = ctx.person(viewer).email
    async with ctx.store.reading() as session:
        return await request_views.my_requests(session, ctx.directory, viewer, limit=limit)


async def pending_for(ctx: Context, *, viewer: str, limit: int = 50) -> list[RequestView]:
    """Pending requests waiting for the viewer's decision, oldest first."""
    viewer = ctx.person(viewer).email
    async with ctx.store.reading() as session:
        return await request_views.pending_my_decision(session, ctx.directory, viewer, limit=limit)


async def my_active_access(
    ctx: Context, *, viewer: str, limit: int | None = None
) -> list[RequestView]:
    """The viewer's access that is granted or being granted, the one ending first first."""
    viewer = ctx.person(viewer).email
    async with ctx.store.reading() as session:
        return await request_views.my_active_access(session, ctx.directory, viewer, limit=limit)


async def home_summary(ctx: Context, *, viewer: str, shown: int) -> HomeSummary:
    """The viewer's home, read at one moment (``shown``: how many of each the home lists)."""
    viewer = ctx.person(viewer).email
    directory = ctx.directory
    async with ctx.store.reading() as session:
        active = await request_views.my_active_access(session, directory, viewer, limit=shown + 1)
        pending = await request_views.pending_my_decision(
            session, directory, viewer, limit=shown + 1
        )
        recent = await request_views.my_requests(session, directory, viewer, limit=shown)
    return HomeSummary(active=active, pending=pending, recent=recent)


def extension_durations(ctx: Context, view: RequestView) -> list[timedelta]:
    """The durations the request's requester may ask for to extend it (none when no flow
    lets them request this access any more)."""
    try:
        person = ctx.person(view.requester)
        return eligibility.durations_for(ctx, person, requests.draft_again(view))
    except GatepassError:
        return []


async def extension_choices(ctx: Context, request_id: str, *, viewer: str) -> Extension:
    """The request and the durations offered to extend it: for its requester only."""
    view = await own_request(ctx, request_id, viewer=viewer)
    return Extension(view, tuple(extension_durations(ctx, view)))


def approval_reason_required(ctx: Context, view: RequestView) -> bool:
    """Whether the request's access flow wants a reason with every approval."""
    try:
        return ctx.config.flow(view.flow).require_approval_reason
    except KeyError:
        return False


async def own_request(ctx: Context, request_id: str, *, viewer: str) -> RequestView:
    """The request, for its requester only: the access card, the password and the requester's
    buttons are never shown to anyone else, approvers and integration owners included."""
    view = await request_for(ctx, request_id, viewer=viewer)
    if view.requester != normalize_email(viewer):
        raise NotTheRequester()
    return view


async def draft_again(ctx: Context, request_id: str, *, viewer: str) -> Draft:
    """An earlier request as a new draft, for "Request again": for its requester only."""
    return requests.draft_again(await own_request(ctx, request_id, viewer=viewer))


async def requests_for_admin(
    ctx: Context, *, status: str | None = None, limit: int = 200
) -> list[RequestView]:
    """Every request, newest first, for the administrator's CLI (no edge calls this)."""
    async with ctx.store.reading() as session:
        return await request_views.list_requests(session, ctx.directory, status=status, limit=limit)
