"""The manager SCIM provisions is followed by routing: by id (Entra ID) or by the manager's
userName, externalId or email (an Okta mapping), whichever of the two is provisioned first."""

from __future__ import annotations

import copy
from datetime import timedelta

from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.scim.harness import PATCH, okta_user, running, scim_config
from tests.support.domain import BASE_CONFIG

DRAFT = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "report")


async def test_a_manager_named_by_username_routes_once_provisioned(
    sqlite_url: str, encryption_key: str
) -> None:
    flows = copy.deepcopy(BASE_CONFIG["access_flows"])
    flows[0]["approvers"] = "manager"
    flows[0]["requestors"] = [{"attribute": "department", "value": "Data"}]
    config = scim_config(sqlite_url, access_flows=flows)
    async with running(sqlite_url, encryption_key, config) as app:
        ctx = app.gatepass.ctx
        report = okta_user(
            "alice@example.com",
            "Alice Doe",
            external_id="00u-alice",
            department="Data",
            manager={"value": "Dave@Example.com"},
        )
        status, alice, _ = await app.call("POST", "/Users", report)
        assert status == 201, alice
        person = (await app.directory()).person("alice@example.com")
        assert person is not None and "manager" not in person.attributes  # not provisioned yet
        first = await requests.submit(
            ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
        )
        assert [(a.email, a.reason) for a in first.approvers] == [
            ("carol@example.com", "integration owner of prod-atlas (the requester has no manager)")
        ]
        await requests.cancel(ctx, actor="alice@example.com", request_id=first.id, platform="x")

        status, dave, _ = await app.call(
            "POST", "/Users", okta_user("dave@example.com", "Dave Kim", external_id="00u-dave")
        )
        assert status == 201, dave
        person = (await app.directory()).person("alice@example.com")
        assert person is not None and person.attributes["manager"] == "dave@example.com"
        second = await requests.submit(
            ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
        )
        assert [(a.email, a.reason) for a in second.approvers] == [
            ("dave@example.com", "manager of Alice Doe")
        ]
        await requests.cancel(ctx, actor="alice@example.com", request_id=second.id, platform="x")

        status, _, _ = await app.call(
            "PATCH",
            f"/Users/{dave['id']}",
            {
                "schemas": [PATCH],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
        )
        assert status == 200
        third = await requests.submit(
            ctx, requester="alice@example.com", draft=DRAFT, platform="slack"
        )
        assert [a.email for a in third.approvers] == ["carol@example.com"]
