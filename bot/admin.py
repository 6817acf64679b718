"""The administrator's commands, over the same use cases the chat edges call."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.output import emit, fail, table
from core.config.settings import Settings
from core.context import Context
from core.domain.durations import format_duration, parse_duration
from core.domain.errors import GatepassError
from core.domain.ports import IntegrationError
from core.domain.views import RequestView
from core.runtime import build_context
from core.storage import migrations
from core.use_cases import (
    admin,
    break_glass,
    directory_loading,
    eligibility,
    grants,
    people,
    reads,
)

ADMIN = "admin (cli)"


@asynccontextmanager
async def context(settings: Settings, *, integrations: bool = False) -> AsyncIterator[Context]:
    await migrations.upgrade_async(settings.database_url)
    ctx = build_context(settings, integrations=None if integrations else {})
    try:
        try:  # the people provisioned over SCIM, before any command looks someone up
            await directory_loading.load(ctx)
        except directory_loading.Contradiction as both:
            fail(f"{both} ({settings.config_path})")
        yield ctx
    finally:
        await ctx.store.close()


def config_summary(settings: Settings) -> dict[str, Any]:
    config = settings.config
    return {
        "config": settings.config_path,
        "database": settings.database_url.split("://", 1)[0],
        "people": len(config.directory.users),
        "integrations": ", ".join(i.name for i in config.integrations) or "none",
        "access flows": ", ".join(f.name for f in config.access_flows) or "none",
        "slack": "on" if config.slack else "off",
        "teams": "on" if config.teams else "off",
        "webhooks": ", ".join(h.name for h in config.webhooks) or "none",
    }


async def online_problems(settings: Settings) -> list[str]:
    from core.domain.ports import SystemClock
    from core.runtime import build_integrations

    problems = []
    for name, integration in build_integrations(settings, SystemClock()).items():
        try:
            await integration.check()
        except IntegrationError as error:
            problems.append(f"integration {name}: {error}")
    return problems


def _parse_resource(text: str) -> tuple[str, str]:
    kind, sep, name = text.partition(":")
    if not sep or not kind or not name:
        fail(f"--resource {text!r}: write TYPE:NAME, e.g. database:analytics")
    return kind, name


async def approvers_for(
    settings: Settings,
    *,
    requester: str,
    integration: str,
    resource: str,
    permission: str,
    duration: str | None,
    as_json: bool,
) -> None:
    kind, name = _parse_resource(resource)
    async with context(settings) as ctx:
        try:
            person = ctx.person(requester)
            flows = eligibility.flows_for_person(ctx, person, integration)
            if duration:
                length = parse_duration(duration)
            else:
                length = min((d for f in flows for d in f.durations), default=timedelta(hours=1))
            draft = eligibility.Draft(
                integration, kind, name, permission, length, justification="(preview)"
            )
            flow, routing = await admin.who_would_approve(ctx, requester=person.email, draft=draft)
        except (GatepassError, ValueError) as error:
            fail(str(error), data={"approvers": [], "error": str(error)}, as_json=as_json)
    rows = [{"email": a.email, "name": a.name, "reason": a.reason} for a in routing.approvers]
    data = {
        "flow": flow.name,
        "automatic": routing.automatic,
        "approvers": rows,
        "escalation": [{"email": a.email, "reason": a.reason} for a in routing.escalation],
        "break_glass": flow.break_glass is not None,
    }
    if flow.break_glass is not None:
        text = f"flow {flow.name}: break-glass, approved by the requester and reviewed after"
    elif routing.automatic:
        text = f"flow {flow.name}: approved automatically (no approver)"
    else:
        text = f"flow {flow.name}: {flow.approvals_required} approval(s) needed\n" + table(
            rows, ["email", "name", "reason"]
        )
    emit(data, as_json, text)


def _row(view: RequestView) -> dict[str, Any]:
    return {
        "id": view.id,
        "status": view.shown_status,
        "requester": view.requester,
        "integration": view.integration,
        "resource": f"{view.resource_type}:{view.resource_name}",
        "permission": view.permission,
        "duration": format_duration(view.duration),
        "created": view.created_at,
        "ends": view.ends_at,
    }


async def list_requests(
    settings: Settings, *, status: str | None, limit: int, as_json: bool
) -> None:
    async with context(settings) as ctx:
        found = await reads.requests_for_admin(ctx, status=status, limit=limit)
    rows = [_row(v) for v in found]
    emit(
        rows,
        as_json,
        table(
            rows,
            [
                "id",
                "status",
                "requester",
                "integration",
                "resource",
                "permission",
                "duration",
                "created",
                "ends",
            ],
        ),
    )


async def list_break_glass(
    settings: Settings, *, status: str | None, limit: int, as_json: bool
) -> None:
    """The break-glass uses, newest first, each marked with its review (or ``pending``)."""
    async with context(settings) as ctx:
        found = await break_glass.uses_for_admin(ctx, status=status, limit=limit)
    rows = [
        _row(use.request)
        | {
            "break_glass": True,
            "reason": use.request.justification,
            "review": use.review.review.value if use.review.review else "pending",
            "reviewed_by": use.review.by_name,
        }
        for use in found
    ]
    columns = ["id", "status", "requester", "resource", "permission", "duration", "created"]
    emit(rows, as_json, table(rows, [*columns, "review", "reviewed_by", "reason"]))


async def show_request(settings: Settings, request_id: str, *, as_json: bool) -> None:
    async with context(settings) as ctx:
        try:
            view = await reads.request_for(ctx, request_id, viewer=ADMIN, as_admin=True)
        except GatepassError as error:
            fail(str(error))
    data = _row(view) | {
        "flow": view.flow,
        "justification": view.justification,
        "approvers": [
            {"email": a.email, "reason": a.reason, "escalation": a.escalation}
            for a in view.approvers
        ],
        "decisions": [
            {
                "approver": d.approver,
                "outcome": d.outcome,
                "reason": d.reason,
                "platform": d.platform,
                "at": d.at,
            }
            for d in view.decisions
        ],
        "decided_by": view.decided_by,
        "decision_reason": view.decision_reason,
        "username": view.username,
        "end_reason": view.end_reason,
        "failure": view.failure,
    }
    lines = [
        f"{key}: {value}" for key, value in data.items() if key not in ("approvers", "decisions")
    ]
    lines += [f"approver: {a['email']} — {a['reason']}" for a in data["approvers"]]
    lines += [
        f"decision: {d['approver']} {d['outcome']} on {d['platform']}"
        f" ({d['reason'] or 'no reason'})"
        for d in data["decisions"]
    ]
    emit(data, as_json, "\n".join(lines))


async def revoke_request(
    settings: Settings, request_id: str, *, reason: str, as_json: bool
) -> None:
    if not reason.strip():
        fail("--reason must say why")
    async with context(settings) as ctx:
        try:
            view = await grants.revoke(
                ctx,
                actor=ADMIN,
                request_id=request_id,
                reason=reason,
                platform="cli",
                as_admin=True,
            )
        except GatepassError as error:
            fail(str(error))
    emit(_row(view), as_json, f"{request_id}: revocation queued; the worker removes the access now")


async def export_audit(
    settings: Settings, *, fmt: str, since: datetime | None, output: Path | None
) -> None:
    since = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    async with context(settings) as ctx:
        sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            async for chunk in admin.export_audit(ctx, fmt=fmt, since=since):
                sink.write(chunk)
        finally:
            if output:
                sink.close()


async def verify_audit(settings: Settings, *, as_json: bool) -> None:
    async with context(settings) as ctx:
        result = await admin.verify_audit(ctx)
    data = {
        "ok": result.ok,
        "checked": result.checked,
        "problem": result.problem,
        "seq": result.seq,
    }
    if not result.ok:
        fail(f"audit log is NOT intact: {result.problem}", data=data, as_json=as_json)
    emit(data, as_json, f"audit log intact: {result.checked} events verified")


async def sync(settings: Settings, *, integration: str | None, as_json: bool) -> None:
    async with context(settings, integrations=True) as ctx:
        names = [integration] if integration else list(ctx.integrations)
        missing = [n for n in names if n not in ctx.integrations]
        if missing:
            fail(f"integration {missing[0]} is not configured or its secret is missing")
        rows, failed = [], []
        for name in names:
            try:
                synced = await admin.sync_integration(ctx, name)
            except IntegrationError as error:
                failed.append(f"{name}: {error}")
                continue
            rows.append(
                {"integration": name, "resources": synced.stored, "removed": synced.removed}
            )
    if failed:
        fail("\n".join(failed), data=rows, as_json=as_json)
    emit(rows, as_json, table(rows, ["integration", "resources", "removed"]))


async def list_resources(settings: Settings, *, integration: str | None, as_json: bool) -> None:
    async with context(settings) as ctx:
        found = await admin.stored_resources(ctx, integration)
    rows = [
        {
            "integration": r.integration,
            "type": r.type,
            "name": r.name,
            "id": r.external_id,
            "parent": r.parent,
            "tags": ", ".join(f"{k}={v}" for k, v in sorted(r.tags.items())),
        }
        for r in found
    ]
    emit(rows, as_json, table(rows, ["integration", "type", "name", "id", "parent", "tags"]))


# ------------------------------------------------------------------ directory


def _person_data(entry: people.Entry) -> dict[str, Any]:
    return {
        "email": entry.email,
        "name": entry.name,
        "source": entry.source,
        "active": entry.active,
        "groups": [{"name": g.value, "source": g.source} for g in entry.groups],
        "attributes": {
            k: {"value": a.value, "source": a.source} for k, a in entry.attributes.items()
        },
        "manager": None
        if entry.manager is None
        else {
            "email": entry.manager.value,
            "name": entry.manager_name,
            "in_directory": entry.manager_name is not None,
            "source": entry.manager.source,
        },
    }


async def list_directory(settings: Settings, *, group: str | None, as_json: bool) -> None:
    async with context(settings) as ctx:
        found = await people.people(ctx, group=group)
    data = [_person_data(e) for e in found]
    rows = [
        {
            "email": e.email,
            "name": e.name,
            "source": e.source,
            "groups": ", ".join(g.value for g in e.groups),
            "manager": e.manager.value if e.manager else None,
        }
        for e in found
    ]
    emit(data, as_json, table(rows, ["email", "name", "source", "groups", "manager"]))


async def show_directory_person(settings: Settings, email: str, *, as_json: bool) -> None:
    async with context(settings) as ctx:
        try:
            entry = await people.person(ctx, email)
        except GatepassError as error:
            fail(str(error))
    data = _person_data(entry)
    lines = [
        f"email: {entry.email}",
        f"name: {entry.name or '-'}",
        f"source: {entry.source}",
        f"active: {'yes' if entry.active else 'no (deactivated in the identity provider)'}",
        "groups:" if entry.groups else "groups: (none)",
        *(f"  {g.value}  [{g.source}]" for g in entry.groups),
        "attributes:" if entry.attributes else "attributes: (none)",
        *(f"  {k}: {a.value}  [{a.source}]" for k, a in entry.attributes.items()),
    ]
    if entry.manager is None:
        lines.append("manager: (none)")
    else:
        who = entry.manager_name or "not in the directory"
        lines.append(f"manager: {entry.manager.value} ({who})  [{entry.manager.source}]")
    emit(data, as_json, "\n".join(lines))
