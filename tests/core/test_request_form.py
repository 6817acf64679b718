"""The request form both chat edges show: the choices of each step with their titles, stale or
forbidden choices dropped, single options chosen, approvers previewed with the same checks
submit makes; and every bad input a person can send refused on the form, nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.errors import NotAllowed, NotAParty
from core.domain.ports import DiscoveredResource
from core.domain.request_form import FormInput, RequestForm, resource_value
from core.domain.views import RequestView
from core.storage.models import AccessRequest
from core.use_cases import request_form
from tests.support.domain import BASE_CONFIG, RESOURCES, Domain, config_with, make_domain

ALICE = "alice@example.com"
GOOD = FormInput("prod-atlas", "database:analytics", "read", "1h", "quarterly report")


def titles(form: RequestForm, field: str) -> list[str]:
    return [c.title for c in form.step(field).offered]


def values(form: RequestForm, field: str) -> list[str]:
    return [c.value for c in form.step(field).offered]


async def count_requests(domain: Domain) -> int:
    async with domain.ctx.store.reading() as session:
        count = await session.execute(sa.select(sa.func.count()).select_from(AccessRequest))
        return int(count.scalar_one())


async def test_a_fresh_form_chooses_the_only_integration(domain: Domain) -> None:
    form = await request_form.build(domain.ctx, requester=ALICE)
    assert values(form, "integration") == ["prod-atlas"]
    assert form.value("integration") == "prod-atlas"
    assert values(form, "resource") == [
        "cluster:Cluster0",
        "database:analytics",
        "database:analytics_eu",
        "database:sales",
    ]  # billing: no flow of Alice's covers it
    assert titles(form, "resource")[1] == "database analytics"
    assert form.resource.chosen is None and not form.shows("permission") and not form.complete
    assert form.to_draft() == {"resource": "Choose a resource."}


async def test_choices_narrow_down_to_the_approvers(domain: Domain) -> None:
    form = await request_form.build(domain.ctx, requester=ALICE, filled=GOOD)
    assert values(form, "permission") == ["read", "readWrite"]
    assert values(form, "duration") == ["15m", "1h", "4h", "8h"]
    assert titles(form, "duration") == ["15 minutes", "1 hour", "4 hours", "8 hours"]
    assert form.complete and form.justification_required and not form.automatic
    assert [a.name for a in form.approvers] == ["Bob Ray", "Carol Lin"]
    assert {a.reason for a in form.approvers} == {"owner of cluster Cluster0 via tag owner=dba"}
    draft = form.to_draft()
    assert not isinstance(draft, dict)
    assert (draft.resource_type, draft.resource_name, draft.permission) == (
        "database",
        "analytics",
        "read",
    )


async def test_stale_choices_are_dropped_and_single_options_chosen(domain: Domain) -> None:
    cluster = await request_form.build(
        domain.ctx, requester=ALICE, filled=FormInput("prod-atlas", "cluster:Cluster0", "read")
    )
    assert values(cluster, "permission") == ["clusterMonitor"]
    assert cluster.value("permission") == "clusterMonitor"  # the only one, in place of read
    assert cluster.to_draft() == {"permission": "Choose one of the offered permissions."}
    sixty = await request_form.build(
        domain.ctx, requester=ALICE, filled=FormInput("prod-atlas", "database:sales", "read", "60m")
    )
    assert sixty.value("duration") == "1h"  # the same duration, however it is spelled


async def test_the_preview_uses_the_same_routing_as_submit(domain: Domain) -> None:
    dave = "dave@example.com"  # the only owner of sales: the integration owners approve
    form = await request_form.build(
        domain.ctx, requester=dave, filled=FormInput("prod-atlas", "database:sales", "read")
    )
    assert form.problem is None
    assert {a.reason for a in form.approvers} == {
        "integration owner of prod-atlas (the only resource owner is the requester)"
    }


async def test_a_complete_form_submits_the_request(domain: Domain) -> None:
    made = await request_form.submit(domain.ctx, requester=ALICE, filled=GOOD, platform="slack")
    assert isinstance(made, RequestView)
    assert (made.resource, made.permission, made.justification) == (
        "database analytics",
        "read",
        "quarterly report",
    )
    assert await count_requests(domain) == 1


BAD_INPUTS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "unknown integration": (
        {"integration": "evil-atlas"},
        {"integration": "Choose one of the offered integrations."},
    ),
    "resource no flow covers": (
        {"resource": "database:billing"},
        {"resource": "Choose one of the offered resources."},
    ),
    "resource never discovered": (
        {"resource": "database:nope"},
        {"resource": "Choose one of the offered resources."},
    ),
    "tampered resource value": (
        {"resource": "' OR 1=1 --"},
        {"resource": "Choose one of the offered resources."},
    ),
    "tampered digest value": (
        {"resource": "database#0123:analytics"},
        {"resource": "Choose one of the offered resources."},
    ),
    "permission not allowed": (
        {"permission": "dbAdmin"},
        {"permission": "Choose one of the offered permissions."},
    ),
    "permission for another kind of resource": (
        {"permission": "clusterMonitor"},
        {"permission": "Choose one of the offered permissions."},
    ),
    "duration not offered": (
        {"duration": "2h"},
        {"duration": "Choose one of the offered durations."},
    ),
    "duration too long": (
        {"duration": "12h"},
        {"duration": "The longest you may request is 8 hours."},
    ),
    "duration not a duration": (
        {"duration": "forever"},
        {"duration": "Choose one of the offered durations."},
    ),
    "no resource": ({"resource": ""}, {"resource": "Choose a resource."}),
    "no permission": ({"permission": ""}, {"permission": "Choose a permission."}),
    "no duration": ({"duration": ""}, {"duration": "Choose how long you need the access."}),
    "no justification": (
        {"justification": "   "},
        {"justification": "A justification is required for this access."},
    ),
    "justification too long": (
        {"justification": "x" * 2001},
        {"justification": "The justification is 2001 characters long; at most 2000."},
    ),
}


@pytest.mark.parametrize(("changes", "errors"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
async def test_bad_input_is_refused_on_the_form_and_nothing_is_stored(
    sqlite_domain: Domain, changes: dict[str, str], errors: dict[str, str]
) -> None:
    filled = FormInput(**{**GOOD.__dict__, **changes})
    refused = await request_form.submit(
        sqlite_domain.ctx, requester=ALICE, filled=filled, platform="teams"
    )
    assert isinstance(refused, RequestForm)
    assert refused.errors == errors
    assert refused.justification == filled.justification  # what was typed is kept
    assert await count_requests(sqlite_domain) == 0
    assert await sqlite_domain.run_jobs() == 0 and sqlite_domain.chat.sent == []


async def test_nobody_to_approve_is_the_forms_problem(sqlite_url: str, encryption_key: str) -> None:
    flows = [{**BASE_CONFIG["access_flows"][0], "approvals_required": 3}]
    domain = await make_domain(sqlite_url, encryption_key, config_with(access_flows=flows))
    try:
        why = "This access needs 3 approvals but only 2 approver(s) other than the requester exist."
        form = await request_form.build(domain.ctx, requester=ALICE, filled=GOOD)
        assert form.problem == why
        refused = await request_form.submit(
            domain.ctx, requester=ALICE, filled=GOOD, platform="slack"
        )
        assert isinstance(refused, RequestForm)
        assert (refused.problem, refused.errors) == (why, {})
        assert await count_requests(domain) == 0
    finally:
        await domain.ctx.store.close()


async def test_someone_no_flow_serves_is_told_so(sqlite_domain: Domain) -> None:
    nothing = "No access flow lets you request access to anything yet. Ask an administrator."
    erin = "erin@example.com"
    form = await request_form.build(sqlite_domain.ctx, requester=erin, filled=GOOD)
    assert (form.problem, form.integration.offered) == (nothing, ())
    refused = await request_form.submit(
        sqlite_domain.ctx, requester=erin, filled=GOOD, platform="teams"
    )
    assert isinstance(refused, RequestForm) and refused.errors == {"integration": nothing}
    assert await count_requests(sqlite_domain) == 0


@contextmanager
def resource_lookups(domain: Domain, name: str) -> Iterator[list[str]]:
    """The statements that read the resource ``name`` (on the writer and the reader engine)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM resources" in statement and name in str(parameters):
            seen.append(statement)

    engines = [e.sync_engine for e in (domain.ctx.store.engine, domain.ctx.store.reader) if e]
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)


async def test_a_submission_looks_the_resource_up_once(sqlite_domain: Domain) -> None:
    with resource_lookups(sqlite_domain, "analytics") as seen:
        made = await request_form.submit(
            sqlite_domain.ctx, requester=ALICE, filled=GOOD, platform="slack"
        )
    assert isinstance(made, RequestView)
    assert len(seen) == 1


async def test_a_long_resource_name_has_a_short_stable_value(sqlite_domain: Domain) -> None:
    long_name = "analytics_" + "x" * 240
    await sqlite_domain.seed_resources(
        [*RESOURCES, DiscoveredResource("database", long_name, parent="cluster:Cluster0")]
    )
    value = resource_value("database", long_name)
    assert len(value) <= 150 and value.startswith("database#")
    found = await request_form.search_resources(
        sqlite_domain.ctx, requester=ALICE, integration="prod-atlas", text="xxxx"
    )
    assert [c.value for c in found] == [value]
    filled = FormInput("prod-atlas", value, "read", "1h", "long")
    form = await request_form.build(sqlite_domain.ctx, requester=ALICE, filled=filled)
    assert form.resource.chosen is not None and form.resource.chosen.title.endswith("x" * 10)
    made = await request_form.submit(
        sqlite_domain.ctx, requester=ALICE, filled=filled, platform="teams"
    )
    assert isinstance(made, RequestView) and made.resource_name == long_name


async def test_the_typeahead_offers_only_what_may_be_requested(sqlite_domain: Domain) -> None:
    async def search(text: str, **page: int) -> list[str]:
        found = await request_form.search_resources(
            sqlite_domain.ctx, requester=ALICE, integration="prod-atlas", text=text, **page
        )
        return [c.value for c in found]

    assert await search("ana") == ["database:analytics", "database:analytics_eu"]
    assert await search("bill") == []
    assert await search("", skip=1, limit=2) == ["database:analytics", "database:analytics_eu"]
    nothing = await request_form.search_resources(
        sqlite_domain.ctx, requester=ALICE, integration="no-such", text=""
    )
    assert nothing == []


async def test_request_again_fills_the_form_as_it_was(sqlite_domain: Domain) -> None:
    made = await request_form.submit(
        sqlite_domain.ctx, requester=ALICE, filled=GOOD, platform="slack"
    )
    assert isinstance(made, RequestView)
    again = await request_form.again(sqlite_domain.ctx, requester=ALICE, request_id=made.id)
    assert again == GOOD
    with pytest.raises(NotAllowed):
        await request_form.again(sqlite_domain.ctx, requester="bob@example.com", request_id=made.id)
    with pytest.raises(NotAParty):
        await request_form.again(sqlite_domain.ctx, requester=ALICE, request_id="RZZZZZZZZZ")
