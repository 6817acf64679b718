"""Collection-level roles through the request form: a requester names a collection of a
discovered database; the flow's ``collection:`` globs and MongoDB's naming rules decide whether
it can be requested; only read and readWrite are offered on it; routing reads the database's,
then the cluster's, then the project's owner tags. Every bad input is refused on the form with
nothing stored and nothing queued."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain import namespaces
from core.domain.errors import InvalidRequest
from core.domain.request_form import Draft, FormInput, RequestForm
from core.domain.views import RequestView
from core.storage.models import AccessRequest
from core.use_cases import approvals, request_form, requests
from tests.support.domain import BASE_CONFIG, Domain, make_domain

ALICE = "alice@example.com"
DATA_ENG = [{"attribute": "group", "value": "data-eng"}]
COLLECTION_FLOW: dict[str, Any] = {
    "name": "collections",
    "requestors": DATA_ENG,
    "integration": "prod-atlas",
    "resources": [
        "collection:analytics.events*",
        "collection:billing.invoices",
        "collection:sales.*",
        "database:analytics",
    ],
    "permissions": ["read", "readWrite", "dbAdmin"],
    "durations": ["1h", "2h"],
    "approvers": "owners",
    "require_justification": True,
}


def collection_config() -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    config["access_flows"].append(copy.deepcopy(COLLECTION_FLOW))
    return config


@pytest.fixture
async def domain(sqlite_url: str, encryption_key: str) -> AsyncIterator[Domain]:
    built = await make_domain(sqlite_url, encryption_key, collection_config())
    yield built
    await built.ctx.store.close()


def values(form: RequestForm, field: str) -> list[str]:
    return [c.value for c in form.step(field).offered]


def named(resource: str, collection: str, permission: str = "read", **more: str) -> FormInput:
    fields = {"duration": "1h", "justification": "replay the events", **more}
    return FormInput("prod-atlas", resource, permission, collection=collection, **fields)


async def stored_requests(domain: Domain) -> int:
    async with domain.ctx.store.reading() as session:
        count = await session.execute(sa.select(sa.func.count()).select_from(AccessRequest))
        return int(count.scalar_one())


# --------------------------------------------------------------------------- the form


async def test_databases_holding_requestable_collections_are_offered(domain: Domain) -> None:
    form = await request_form.build(domain.ctx, requester=ALICE)
    # billing: no flow covers the database itself, one covers a collection of it
    assert "database:billing" in values(form, "resource")
    billing = await request_form.build(
        domain.ctx, requester=ALICE, filled=FormInput("prod-atlas", "database:billing")
    )
    assert billing.shows("collection") and billing.collection_required
    assert not billing.shows("permission")  # nothing on the database itself
    assert billing.to_draft() == {
        "collection": "Name the collection: an access flow lets you request only collections here."
    }
    analytics = await request_form.build(
        domain.ctx, requester=ALICE, filled=FormInput("prod-atlas", "database:analytics")
    )
    assert analytics.shows("collection") and not analytics.collection_required
    assert values(analytics, "permission") == ["read", "readWrite", "dbAdmin"]
    cluster = await request_form.build(
        domain.ctx, requester=ALICE, filled=FormInput("prod-atlas", "cluster:Cluster0")
    )
    assert not cluster.shows("collection")
    eu = await request_form.build(
        domain.ctx, requester=ALICE, filled=FormInput("prod-atlas", "database:analytics_eu")
    )
    assert not eu.shows("collection")  # analytics.events* reaches no collection of analytics_eu


async def test_typeahead_finds_a_database_only_its_collections_make_requestable(
    domain: Domain,
) -> None:
    found = await request_form.search_resources(
        domain.ctx, requester=ALICE, integration="prod-atlas", text="bill"
    )
    assert [c.value for c in found] == ["database:billing"]


async def test_a_named_collection_offers_only_collection_roles(domain: Domain) -> None:
    form = await request_form.build(
        domain.ctx, requester=ALICE, filled=named("database:analytics", "events_2026", "")
    )
    assert form.collection_problem is None
    assert values(form, "permission") == ["read", "readWrite"]  # no dbAdmin on a collection
    form = await request_form.build(
        domain.ctx, requester=ALICE, filled=named("database:analytics", "events_2026")
    )
    assert values(form, "duration") == ["1h", "2h"]  # the collection flow's, not the database's
    draft = form.to_draft()
    assert isinstance(draft, Draft)
    assert (draft.resource_type, draft.resource_name, draft.permission) == (
        "collection",
        "analytics.events_2026",
        "read",
    )


async def test_a_collection_is_routed_by_its_databases_owner_tag(domain: Domain) -> None:
    sales = await request_form.build(
        domain.ctx, requester=ALICE, filled=named("database:sales", "orders")
    )
    assert [(a.name, a.reason) for a in sales.approvers] == [
        ("Dave Kim", "owner of database sales via tag owner=sales-owners")
    ]
    # analytics has no owner tag of its own: its cluster's
    analytics = await request_form.build(
        domain.ctx, requester=ALICE, filled=named("database:analytics", "events")
    )
    assert {a.reason for a in analytics.approvers} == {
        "owner of cluster Cluster0 via tag owner=dba"
    }


async def test_a_collection_request_is_submitted_and_routed(domain: Domain) -> None:
    made = await request_form.submit(
        domain.ctx, requester=ALICE, filled=named("database:sales", "orders"), platform="slack"
    )
    assert isinstance(made, RequestView)
    assert (made.resource, made.permission) == ("collection sales.orders", "read")
    assert [a.email for a in made.approvers] == ["dave@example.com"]
    again = await request_form.again(domain.ctx, requester=ALICE, request_id=made.id)
    assert (again.resource, again.collection, again.permission) == (
        "database:sales",
        "orders",
        "read",
    )


async def test_a_collection_whose_database_is_the_only_offered_resource(
    sqlite_url: str, encryption_key: str
) -> None:
    """A flow with only collection globs: the database is offered for its collections."""
    config = copy.deepcopy(BASE_CONFIG)
    config["access_flows"] = [
        {**COLLECTION_FLOW, "resources": ["collection:billing.*"], "permissions": ["read"]}
    ]
    domain = await make_domain(sqlite_url, encryption_key, config)
    try:
        form = await request_form.build(
            domain.ctx, requester=ALICE, filled=named("database:billing", "invoices")
        )
        assert values(form, "resource") == ["database:billing"]
        assert form.collection_required and values(form, "permission") == ["read"]
        made = await request_form.submit(
            domain.ctx,
            requester=ALICE,
            filled=named("database:billing", "invoices"),
            platform="teams",
        )
        assert isinstance(made, RequestView) and made.resource == "collection billing.invoices"
        # billing, Cluster0: no tag on the database, the cluster's owner tag routes it
        assert {a.reason for a in made.approvers} == {"owner of cluster Cluster0 via tag owner=dba"}
    finally:
        await domain.ctx.store.close()


# --------------------------------------------------------------------------- bad inputs

TOO_LONG = "e" * (namespaces.MAX_NAMESPACE_BYTES - len("analytics.") + 1)
BAD: dict[str, tuple[FormInput, dict[str, str]]] = {
    "system collection": (
        named("database:analytics", "system.users"),
        {
            "collection": "Collections whose name starts with system. belong to MongoDB itself; "
            "they cannot be requested."
        },
    ),
    "dollar sign": (
        named("database:analytics", "events$x"),
        {"collection": "A collection name cannot contain $."},
    ),
    "null character": (
        named("database:analytics", "events\x00x"),
        {"collection": "A collection name cannot contain a null character."},
    ),
    "too long": (
        named("database:analytics", TOO_LONG),
        {
            "collection": "The collection name is too long: in database analytics it may be at "
            "most 245 bytes (database and collection together at most 255)."
        },
    ),
    "no flow glob allows it": (
        named("database:analytics", "payroll"),
        {"collection": "No access flow lets you request collection analytics.payroll."},
    ),
    "a database no collection flow reaches": (
        named("database:analytics_eu", "events"),
        {"resource": "No access flow lets you request a collection in database analytics_eu."},
    ),
    "in a cluster": (
        named("cluster:Cluster0", "events"),
        {"resource": "No access flow lets you request a collection in cluster Cluster0."},
    ),
    "a collection sent as a resource": (
        FormInput("prod-atlas", "collection:analytics.events", "read", "1h", "replay"),
        {"resource": "Choose one of the offered resources."},
    ),
    "in an unknown database": (
        named("database:nope", "events"),
        {
            "resource": "A collection can be named only in a database Gatepass has discovered "
            "and an access flow offers: choose one of the offered resources."
        },
    ),
    "missing where only collections may be requested": (
        named("database:billing", ""),
        {
            "collection": "Name the collection: an access flow lets you request only "
            "collections here."
        },
    ),
    "dbAdmin on a collection": (
        named("database:analytics", "events", "dbAdmin"),
        {
            "permission": "Only read or readWrite can be granted on a collection; choose one of "
            "the offered permissions."
        },
    ),
    "clusterMonitor on a collection": (
        named("database:analytics", "events", "clusterMonitor"),
        {
            "permission": "Only read or readWrite can be granted on a collection; choose one of "
            "the offered permissions."
        },
    ),
    "duration only the database's flow offers": (
        named("database:analytics", "events", "read", duration="4h"),
        {"duration": "The longest you may request is 2 hours."},
    ),
}


@pytest.mark.parametrize(("filled", "errors"), BAD.values(), ids=BAD.keys())
async def test_a_bad_collection_is_refused_and_nothing_is_stored(
    domain: Domain, filled: FormInput, errors: dict[str, str]
) -> None:
    refused = await request_form.submit(
        domain.ctx, requester=ALICE, filled=filled, platform="teams"
    )
    assert isinstance(refused, RequestForm)
    assert refused.errors == errors
    assert refused.collection == filled.collection  # what was typed is kept
    assert await stored_requests(domain) == 0
    assert await domain.run_jobs() == 0 and domain.chat.sent == []
    assert domain.atlas.calls == []


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("glob", "database", "reaches"),
    [
        ("analytics.*", "analytics", True),
        ("analytics.*", "analytics_eu", False),
        ("ana*", "analytics", True),
        ("*.events", "sales", True),
        ("a?alytics.e*", "analytics", True),
        ("[ab]nalytics.x", "analytics", True),
        ("[!a]nalytics.x", "analytics", False),
        ("analytics", "analytics", False),
        ("analytics.", "analytics", False),
        ("sales.*", "analytics", False),
    ],
)
def test_a_collection_glob_reaches_into_a_database(glob: str, database: str, reaches: bool) -> None:
    assert namespaces.reaches_into(glob, database) is reaches


def test_a_namespace_splits_at_the_first_dot() -> None:
    assert namespaces.split("analytics.events.2026") == ("analytics", "events.2026")
    assert namespaces.split("analytics") is None
    assert namespaces.namespace_problem("analytics.") == (
        "Collection 'analytics.' is not named database.collection."
    )
    assert namespaces.collection_problem("analytics", "e" * 245) is None
    multibyte = "é" * 123  # 246 bytes
    assert namespaces.collection_problem("analytics", multibyte) is not None


async def test_a_collection_of_an_unknown_database_is_refused_by_submit(
    sqlite_url: str, encryption_key: str
) -> None:
    """With a glob reaching every database, an undiscovered one is refused when submitted."""
    config = copy.deepcopy(BASE_CONFIG)
    config["access_flows"] = [
        {**COLLECTION_FLOW, "resources": ["collection:*"], "permissions": ["read"]}
    ]
    domain = await make_domain(sqlite_url, encryption_key, config)
    try:
        refused = await request_form.submit(
            domain.ctx, requester=ALICE, filled=named("database:nope", "events"), platform="slack"
        )
        assert isinstance(refused, RequestForm)
        assert refused.errors == {
            "resource": "database nope is not a known resource of prod-atlas (run a sync if it "
            "is new)."
        }
        drafted = Draft(
            "prod-atlas", "collection", "analytics.system.js", "read", timedelta(hours=1)
        )
        with pytest.raises(InvalidRequest, match="belong to MongoDB itself") as caught:
            await requests.submit(domain.ctx, requester=ALICE, draft=drafted, platform="slack")
        assert caught.value.field == "collection"
        assert await stored_requests(domain) == 0 and await domain.run_jobs() == 0
    finally:
        await domain.ctx.store.close()


async def test_a_collection_grant_is_granted_and_extended_on_the_same_collection(
    domain: Domain,
) -> None:
    made = await request_form.submit(
        domain.ctx, requester=ALICE, filled=named("database:sales", "orders"), platform="slack"
    )
    assert isinstance(made, RequestView)
    await approvals.decide(
        domain.ctx,
        approver="dave@example.com",
        request_id=made.id,
        outcome="approve",
        reason=None,
        platform="slack",
    )
    await domain.run_jobs()
    assert domain.atlas.accounts == {"gp-alice": {"read@collection:sales.orders"}}
    extension = await requests.extend(
        domain.ctx,
        actor=ALICE,
        request_id=made.id,
        duration=timedelta(hours=1),
        justification="the replay runs late",
        platform="slack",
    )
    assert extension.resource == "collection sales.orders"
    assert [a.email for a in extension.approvers] == ["dave@example.com"]
