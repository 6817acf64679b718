"""Routing to the requester's manager: who is asked, why, and when the integration owners are."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from core.config.schema import parse_config
from core.domain.directory import ConfigDirectory, LiveDirectory, Person, Provisioned
from core.domain.errors import NoApprovers
from core.domain.routing import Routing, TaggedResource, route
from tests.support.domain import BASE_CONFIG

CHAIN = [
    TaggedResource("database", "analytics", {}),
    TaggedResource("cluster", "Cluster0", {"owner": "dba"}),
]


def _config(managers: dict[str, str], **flow: Any) -> Any:
    config = copy.deepcopy(BASE_CONFIG)
    for user in config["directory"]["users"]:
        if user["email"] in managers:
            user.setdefault("attributes", {})["manager"] = managers[user["email"]]
    config["access_flows"][0].update({"approvers": "manager", **flow})
    return parse_config(config)


def _route(config: Any, requester: str, directory: Any = None) -> Routing:
    return route(
        requester=requester,
        flow=config.access_flows[0],
        integration=config.integrations[0],
        chain=CHAIN,
        directory=directory or ConfigDirectory(config.directory),
    )


def _pairs(routing: Routing) -> list[tuple[str, str]]:
    return [(a.email, a.reason) for a in routing.approvers]


def test_the_config_accepts_approvers_manager() -> None:
    assert _config({}).access_flows[0].approvers == "manager"


def test_a_config_file_manager_approves_with_a_reason() -> None:
    routing = _route(_config({"alice@example.com": "erin@example.com"}), "alice@example.com")
    assert _pairs(routing) == [("erin@example.com", "manager of Alice Doe")]
    assert not routing.automatic and not routing.via_resource_owner


def test_the_manager_is_found_whatever_the_case_of_the_email() -> None:
    routing = _route(_config({"alice@example.com": " Erin@Example.com "}), "alice@example.com")
    assert _pairs(routing) == [("erin@example.com", "manager of Alice Doe")]


def test_no_manager_falls_back_to_the_integration_owners() -> None:
    assert _pairs(_route(_config({}), "alice@example.com")) == [
        ("bob@example.com", "integration owner of prod-atlas (the requester has no manager)"),
        ("carol@example.com", "integration owner of prod-atlas (the requester has no manager)"),
    ]


def test_a_manager_outside_the_directory_falls_back_to_the_integration_owners() -> None:
    routing = _route(_config({"alice@example.com": "gone@example.com"}), "alice@example.com")
    assert {a.email for a in routing.approvers} == {"bob@example.com", "carol@example.com"}
    assert {a.reason for a in routing.approvers} == {
        "integration owner of prod-atlas (the requester's manager is not in the directory)"
    }


def test_being_ones_own_manager_falls_back_and_never_self_approves() -> None:
    routing = _route(_config({"bob@example.com": "bob@example.com"}), "bob@example.com")
    assert _pairs(routing) == [
        (
            "carol@example.com",
            "integration owner of prod-atlas (the requester is their own manager)",
        )
    ]


def test_a_requester_outside_the_directory_falls_back_too() -> None:
    routing = _route(_config({}), "mallory@example.com")
    assert {a.email for a in routing.approvers} == {"bob@example.com", "carol@example.com"}


def test_more_approvals_than_the_manager_add_the_integration_owners() -> None:
    config = _config({"alice@example.com": "bob@example.com"}, approvals_required=2)
    assert _pairs(_route(config, "alice@example.com")) == [
        ("bob@example.com", "manager of Alice Doe"),
        (
            "carol@example.com",
            "integration owner of prod-atlas (more approvals needed than the manager's)",
        ),
    ]


def test_approvals_required_beyond_everyone_is_refused() -> None:
    config = _config({"alice@example.com": "bob@example.com"}, approvals_required=3)
    with pytest.raises(NoApprovers, match="needs 3 approvals"):
        _route(config, "alice@example.com")


def test_one_approval_asks_the_manager_only() -> None:
    config = _config({"alice@example.com": "bob@example.com"}, approvals_required=1)
    assert [a.email for a in _route(config, "alice@example.com").approvers] == ["bob@example.com"]


def _scim(email: str, name: str, revision: int, **attributes: str) -> Provisioned:
    person = Person(email, name, frozenset({"data-eng"}), dict(attributes), source="scim")
    return Provisioned(email, revision, person)


def test_a_scim_manager_routes_and_a_deactivated_one_falls_back() -> None:
    config = _config({})
    directory = LiveDirectory(config.directory)
    directory.apply(
        2,
        [
            _scim("zoe@example.com", "Zoe Park", 1, manager="yuri@example.com"),
            _scim("yuri@example.com", "Yuri Gold", 2),
        ],
    )
    assert _pairs(_route(config, "zoe@example.com", directory)) == [
        ("yuri@example.com", "manager of Zoe Park")
    ]
    directory.apply(3, [Provisioned("yuri@example.com", 3, None)])  # deactivated
    routing = _route(config, "zoe@example.com", directory)
    assert {a.email for a in routing.approvers} == {"bob@example.com", "carol@example.com"}
    assert all("not in the directory" in a.reason for a in routing.approvers)
