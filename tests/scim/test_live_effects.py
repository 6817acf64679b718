"""What a provisioning change does at once: leavers lose access, group changes reroute."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.domain.lifecycle import Status
from core.storage.models import AccessRequest, AuditEvent
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.scim.harness import GROUP, PATCH, okta_user, running, scim_config

DRAFT = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")


async def _provision(app, email: str, name: str, group_ids: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    status, user, _ = await app.call("POST", "/Users", okta_user(email, name, external_id=email))
    assert status == 201, user
    return str(user["id"])


async def _group(app, name: str, members: list[str]) -> str:  # type: ignore[no-untyped-def]
    status, group, _ = await app.call(
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]},
    )
    assert status == 201, group
    return str(group["id"])


async def test_a_deactivated_user_loses_grants_and_pending_requests_in_one_tick(
    sqlite_url: str, encryption_key: str
) -> None:
    async with running(sqlite_url, encryption_key) as app:
        ctx = app.gatepass.ctx
        alice = await _provision(app, "alice@example.com", "Alice Doe", {})
        bob = await _provision(app, "bob@example.com", "Bob Ray", {})
        await _group(app, "data-eng", [alice])
        await _group(app, "dba", [bob])
        active = await requests.submit(
            ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
        )
        assert sorted(a.email for a in active.approvers) == ["bob@example.com", "carol@example.com"]
        await approvals.decide(
            ctx,
            approver="bob@example.com",
            request_id=active.id,
            outcome="approve",
            reason=None,
            platform="slack",
        )
        await app.run_jobs()
        assert app.atlas.accounts, "the grant exists in Atlas"
        other = Draft("prod-atlas", "database", "analytics_eu", "read", timedelta(hours=1), "x")
        pending = await requests.submit(
            ctx, requester="alice@example.com", draft=other, platform="slack"
        )
        status, _, _ = await app.call(
            "PATCH",
            f"/Users/{alice}",
            {
                "schemas": [PATCH],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
            },
        )
        assert status == 200
        await app.run_jobs()  # one worker tick
        assert app.atlas.accounts == {}
        async with ctx.store.reading() as session:
            statuses = {
                r.id: r.status for r in (await session.execute(sa.select(AccessRequest))).scalars()
            }
            actions = [
                (e.action, e.request_id, e.detail)
                for e in (
                    await session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq))
                ).scalars()
            ]
        assert statuses[pending.id] == Status.CANCELLED
        assert statuses[active.id] == Status.REVOKED
        assert (
            "directory.deprovisioned",
            None,
            {"person": "alice@example.com", "why": "deactivated"},
        ) in actions
        why = {rid: d["why"] for a, rid, d in actions if a.endswith("_deprovisioned")}
        assert why == {
            pending.id: "deprovisioned: deactivated in the identity provider",
            active.id: "deprovisioned: deactivated in the identity provider",
        }


async def test_a_group_change_reroutes_the_next_request_on_another_replica(
    postgres_url: str, encryption_key: str
) -> None:
    config = scim_config(postgres_url)
    async with (
        running(postgres_url, encryption_key, config) as one,
        running(postgres_url, encryption_key, config, migrate=False) as two,
    ):
        alice = await _provision(one, "alice@example.com", "Alice Doe", {})
        bob = await _provision(one, "bob@example.com", "Bob Ray", {})
        erin = await _provision(one, "erin@example.com", "Erin Fox", {})
        await _group(one, "data-eng", [alice])
        dba = await _group(one, "dba", [bob])
        ctx_two = two.gatepass.ctx
        # A chat edge's request opens a transaction (its replay guard) before the use case;
        # the same start of a transaction brings replica two's copy up to date.
        await two.directory()
        first = await requests.submit(
            ctx_two, requester="alice@example.com", draft=DRAFT, platform="slack"
        )
        assert sorted(a.email for a in first.approvers) == ["bob@example.com", "carol@example.com"]
        status, _, _ = await one.call(
            "PATCH",
            f"/Groups/{dba}",
            {
                "schemas": [PATCH],
                "Operations": [
                    {"op": "add", "path": "members", "value": [{"value": erin}]},
                    {"op": "remove", "path": f'members[value eq "{bob}"]'},
                ],
            },
        )
        assert status == 200
        await requests.cancel(
            ctx_two, actor="alice@example.com", request_id=first.id, platform="slack"
        )
        second = await requests.submit(
            ctx_two, requester="alice@example.com", draft=DRAFT, platform="slack"
        )
        # Carol (config file) and now Erin (SCIM) are in dba; Bob left it.
        assert sorted((a.email, a.reason) for a in second.approvers) == [
            ("carol@example.com", "owner of cluster Cluster0 via tag owner=dba"),
            ("erin@example.com", "owner of cluster Cluster0 via tag owner=dba"),
        ]
