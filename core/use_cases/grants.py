"""Use cases on granted access: revoke it now (the requester, an integration owner from chat
with a reason, an administrator at the CLI), reveal its password once; and the approval
message an approver or an integration owner sees, "Revoke now" included."""

from __future__ import annotations

from core.config.secrets import SecretValue
from core.context import Context
from core.domain.directory import normalize_email
from core.domain.errors import (
    GatepassError,
    InvalidRequest,
    NotAllowed,
    NothingToReveal,
    RequestNotFound,
    WrongStatus,
)
from core.domain.lifecycle import Status
from core.domain.messages import ApprovalRequested
from core.domain.routing import Approver, integration_owners
from core.domain.views import ApproverView, RequestView
from core.jobs.kinds import RevokeJob
from core.jobs.queue import enqueue
from core.storage import audit
from core.storage.models import AccessRequest, Grant
from core.storage.request_views import load_view
from core.use_cases.requests import locked_request

MAX_REVOKE_REASON = 500


def owners_of(ctx: Context, integration: str) -> dict[str, Approver]:
    """The integration's owners by email, each with why (none once it left the config)."""
    try:
        config = ctx.integration_config(integration)
    except GatepassError:
        return {}
    return {owner.email: owner for owner in integration_owners(config, ctx.directory)}


def may_revoke(ctx: Context, view: RequestView, person: str) -> bool:
    """The one rule of "Revoke now" in chat: an owner of the request's integration, while its
    access is active (administrators revoke at the CLI)."""
    return view.status is Status.ACTIVE and normalize_email(person) in owners_of(
        ctx, view.integration
    )


def check_revoker(ctx: Context, view: RequestView, person: str) -> None:
    """``NotAllowed`` unless ``person`` may press "Revoke now" on this request (``may_revoke``)."""
    if not may_revoke(ctx, view, person):
        raise _not_a_revoker(view.integration, view.id)


def _not_a_revoker(integration: str, request_id: str) -> NotAllowed:
    return NotAllowed(
        f"Only an owner of {integration} can revoke request {request_id} here, "
        "while its access is active."
    )


def approval_copy(
    ctx: Context, view: RequestView, person: str, *, reminder: bool = False
) -> ApprovalRequested:
    """A request's approval message as ``person`` sees it, on every platform: as its approver,
    or as an owner of its integration (with "Revoke now" while the access is active)."""
    email = normalize_email(person)
    owner = owners_of(ctx, view.integration).get(email)
    reader = view.approver(email)
    if reader is None:
        reason = owner.reason if owner is not None else ""
        reader = ApproverView(email, owner.name if owner is not None else email, reason)
    return ApprovalRequested(
        view, reader, reminder=reminder, may_revoke=may_revoke(ctx, view, email)
    )


def _may_revoke(
    ctx: Context, request: AccessRequest, actor: str, *, owners_only: bool = False
) -> bool:
    if actor == request.requester and not owners_only:
        return True
    return actor in owners_of(ctx, request.integration)


def _revoke_reason(text: str | None) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise InvalidRequest("Say why you revoke this access.", field="reason")
    if len(text) > MAX_REVOKE_REASON:
        raise InvalidRequest(
            f"The reason is too long (at most {MAX_REVOKE_REASON} characters).", field="reason"
        )
    return text


async def revoke_as_owner(
    ctx: Context, *, actor: str, request_id: str, reason: str | None, platform: str
) -> RequestView:
    """The "Revoke now" of chat: an owner of the integration ends an active grant, saying why;
    the requester is told who and why. Anybody else is refused and nothing changes."""
    actor = ctx.person(actor).email
    async with ctx.store.reading() as session:
        request = await session.get(AccessRequest, request_id)
    if request is None:
        raise RequestNotFound(request_id)
    if not _may_revoke(ctx, request, actor, owners_only=True):
        raise _not_a_revoker(request.integration, request_id)
    if request.status != Status.ACTIVE:
        raise WrongStatus(request_id, status=request.status, action="revoked")
    why = _revoke_reason(reason)
    return await revoke(
        ctx,
        actor=actor,
        request_id=request_id,
        reason=f"revoked by {ctx.person(actor).label}: {why}",
        platform=platform,
        owners_only=True,
    )


async def revoke(
    ctx: Context,
    *,
    actor: str,
    request_id: str,
    reason: str | None,
    platform: str | None,
    as_admin: bool = False,
    owners_only: bool = False,
) -> RequestView:
    """End an active grant now: the requester ("I'm done"), an integration owner, or an admin
    (``owners_only``: not the requester either)."""
    actor = normalize_email(actor) if not as_admin else actor
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None:
            raise RequestNotFound(request_id)
        if not as_admin and not _may_revoke(ctx, request, actor, owners_only=owners_only):
            raise NotAllowed(
                f"Only the requester or an owner of {request.integration} can revoke {request_id}."
            )
        if request.status not in (Status.ACTIVE, Status.GRANTING, Status.APPROVED):
            raise WrongStatus(request_id, status=request.status, action="revoked")
        now = ctx.clock.now()
        await audit.record(
            session,
            at=now,
            actor=actor,
            action="grant.revoke_requested",
            request_id=request_id,
            platform=platform,
            detail={"reason": (reason or "")[:500]},
        )
        await enqueue(
            session,
            RevokeJob.asked(request_id, actor=actor, reason=reason, platform=platform, at=now),
        )
        view = await load_view(session, ctx.directory, request_id)
    ctx.doorbell.ring()
    return view


async def reveal_password(
    ctx: Context, *, actor: str, request_id: str, platform: str
) -> SecretValue:
    """The password waiting for the requester, once: it is erased as it is handed over."""
    actor = normalize_email(actor)
    if ctx.vault is None:
        raise NothingToReveal()
    async with ctx.store.transaction() as session:
        request = await locked_request(session, request_id)
        if request.requester != actor:
            raise NotAllowed("Only the requester can see this password.")
        grant = await session.get(Grant, request_id, with_for_update=True)
        if request.status != Status.ACTIVE or grant is None or grant.password_ciphertext is None:
            raise NothingToReveal()
        password = ctx.vault.open(grant.password_ciphertext)
        grant.password_ciphertext = None
        await audit.record(
            session,
            at=ctx.clock.now(),
            actor=actor,
            action="credential.revealed",
            request_id=request_id,
            platform=platform,
            detail={"username": grant.username},
        )
    return password
