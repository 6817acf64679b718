"""Use cases on granted access: revoke it now, reveal its password once."""

from __future__ import annotations

from core.config.secrets import SecretValue
from core.context import Context
from core.domain.directory import normalize_email
from core.domain.errors import NotAllowed, NothingToReveal, RequestNotFound, WrongStatus
from core.domain.lifecycle import Status
from core.domain.routing import integration_owners
from core.domain.views import RequestView
from core.jobs.kinds import RevokeJob
from core.jobs.queue import enqueue
from core.storage import audit
from core.storage.models import AccessRequest, Grant
from core.storage.request_views import load_view
from core.use_cases.requests import locked_request


def _may_revoke(ctx: Context, request: AccessRequest, actor: str) -> bool:
    if actor == request.requester:
        return True
    owners = integration_owners(ctx.integration_config(request.integration), ctx.directory)
    return any(owner.email == actor for owner in owners)


async def revoke(
    ctx: Context,
    *,
    actor: str,
    request_id: str,
    reason: str | None,
    platform: str | None,
    as_admin: bool = False,
) -> RequestView:
    """End an active grant now: the requester ("I'm done"), an integration owner, or an admin."""
    actor = normalize_email(actor) if not as_admin else actor
    async with ctx.store.transaction() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None:
            raise RequestNotFound(request_id)
        if not as_admin and not _may_revoke(ctx, request, actor):
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
