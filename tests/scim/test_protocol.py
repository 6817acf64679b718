"""The SCIM endpoint replayed with the request sequences Okta and Microsoft Entra ID send."""

from __future__ import annotations

from typing import Any

from tests.scim.harness import (
    ENTERPRISE,
    GROUP,
    PATCH,
    TOKEN,
    USER,
    okta_user,
    running,
)

Resource = dict[str, Any]


async def _okta_looks_up_then_creates(app: Any) -> tuple[Resource, Resource]:
    """Okta looks the user up first, then creates them: (the body sent, the user created)."""
    status, found, _ = await app.call(
        "GET", '/Users?filter=userName eq "alice@example.com"&startIndex=1&count=100'
    )
    assert status == 200 and found["totalResults"] == 0 and found["Resources"] == []
    body = okta_user("Alice@Example.com", "Alice Doe", external_id="00u1", department="DBA")
    status, alice, headers = await app.call("POST", "/Users", body)
    assert status == 201, alice
    assert headers["Location"].endswith(f"/scim/v2/Users/{alice['id']}")
    assert headers["ETag"] == 'W/"1"' and alice["meta"]["version"] == 'W/"1"'
    assert alice["userName"] == "Alice@Example.com" and "password" not in alice
    assert alice[ENTERPRISE]["department"] == "DBA"
    status, again, _ = await app.call("GET", f"/Users/{alice['id']}")
    assert status == 200 and again == alice
    person = (await app.directory()).person("alice@example.com")
    assert person is not None and person.attributes["department"] == "DBA"
    return body, alice


async def _okta_puts_a_profile_update(app: Any, body: Resource, alice: Resource) -> None:
    """A profile update: Okta PUTs the whole user."""
    body["name"]["familyName"] = "Doe-Smith"
    body["displayName"] = "Alice Doe-Smith"
    status, put, headers = await app.call("PUT", f"/Users/{alice['id']}", body)
    assert status == 200 and put["name"]["familyName"] == "Doe-Smith"
    assert headers["ETag"] == 'W/"2"'


async def _okta_deactivates_then_reactivates(app: Any, alice: Resource) -> None:
    """PATCH with a replace of active and no path."""
    deactivate = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    status, off, _ = await app.call("PATCH", f"/Users/{alice['id']}", deactivate)
    assert status == 200 and off["active"] is False
    assert (await app.directory()).person("alice@example.com") is None
    reactivate = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "value": {"active": True}}],
    }
    status, on, _ = await app.call("PATCH", f"/Users/{alice['id']}", reactivate)
    assert status == 200 and on["active"] is True


async def _okta_pushes_a_group(app: Any, alice: Resource) -> tuple[Resource, Resource]:
    """Group push: create with a member, add one, remove one, rename: (bob, the group)."""
    status, bob, _ = await app.call(
        "POST", "/Users", okta_user("bob@example.com", "Bob Ray", external_id="00u2")
    )
    assert status == 201
    status, group, _ = await app.call(
        "POST",
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": "dba",
            "members": [{"value": alice["id"], "display": "Alice"}],
        },
    )
    assert status == 201, group
    assert [m["value"] for m in group["members"]] == [alice["id"]]
    add = {
        "schemas": [PATCH],
        "Operations": [
            {
                "op": "add",
                "path": "members",
                "value": [{"value": bob["id"]}, {"value": alice["id"]}],
            }
        ],
    }
    status, group, _ = await app.call("PATCH", f"/Groups/{group['id']}", add)
    assert status == 200 and sorted(m["value"] for m in group["members"]) == sorted(
        [alice["id"], bob["id"]]
    )
    remove = {
        "schemas": [PATCH],
        "Operations": [{"op": "remove", "path": f'members[value eq "{alice["id"]}"]'}],
    }
    status, group, _ = await app.call("PATCH", f"/Groups/{group['id']}", remove)
    assert status == 200 and [m["value"] for m in group["members"]] == [bob["id"]]
    rename = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "value": {"id": group["id"], "displayName": "dba-team"}}],
    }
    status, group, _ = await app.call("PATCH", f"/Groups/{group['id']}", rename)
    assert status == 200 and group["displayName"] == "dba-team"
    return bob, group


async def _the_group_reads_back(app: Any, bob: Resource, group: Resource) -> None:
    directory = await app.directory()
    assert [p.email for p in directory.members("group", "dba-team")] == ["bob@example.com"]
    status, listed, _ = await app.call("GET", f'/Groups?filter=members.value eq "{bob["id"]}"')
    assert status == 200 and [g["id"] for g in listed["Resources"]] == [group["id"]]
    status, user, _ = await app.call("GET", f"/Users/{bob['id']}?attributes=userName,groups")
    assert set(user) >= {"userName", "groups", "id"} and "emails" not in user
    assert user["groups"][0]["display"] == "dba-team"


async def _okta_deletes(app: Any, alice: Resource, group: Resource) -> None:
    status, _, _ = await app.call("DELETE", f"/Users/{alice['id']}")
    assert status == 204
    status, gone, _ = await app.call("GET", f"/Users/{alice['id']}")
    assert status == 404 and gone["status"] == "404"
    status, _, _ = await app.call("DELETE", f"/Groups/{group['id']}")
    assert status == 204
    assert (await app.directory()).members("group", "dba-team") == []


async def test_okta_provisioning_sequence_round_trips(sqlite_url: str, encryption_key: str) -> None:
    async with running(sqlite_url, encryption_key) as app:
        body, alice = await _okta_looks_up_then_creates(app)
        await _okta_puts_a_profile_update(app, body, alice)
        await _okta_deactivates_then_reactivates(app, alice)
        bob, group = await _okta_pushes_a_group(app, alice)
        await _the_group_reads_back(app, bob, group)
        await _okta_deletes(app, alice, group)


async def _entra_creates_a_boss_and_alice(app: Any) -> tuple[Resource, Resource]:
    """(the boss, alice), alice with ``active`` as the string "True"."""
    status, boss, _ = await app.call(
        "POST", "/Users", okta_user("bob@example.com", "Bob Ray", external_id="b1")
    )
    assert status == 201
    entra = {
        "schemas": [USER, ENTERPRISE],
        "externalId": "e-alice",
        "userName": "alice@example.com",
        "active": "True",
        "displayName": "Alice Doe",
        "emails": [{"primary": True, "type": "work", "value": "alice@example.com"}],
        "name": {"givenName": "Alice", "familyName": "Doe"},
        ENTERPRISE: {"employeeNumber": "42", "department": "Data"},
    }
    status, alice, _ = await app.call("POST", "/Users", entra)
    assert status == 201, alice
    return boss, alice


async def _entra_patches_with_capitalised_ops(app: Any, boss: Resource, alice: Resource) -> None:
    ops = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Alice M. Doe"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]},
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "alice@example.com",
            },
            {"op": "Add", "path": f"{ENTERPRISE}:costCenter", "value": "CC-7"},
        ],
    }
    status, patched, _ = await app.call("PATCH", f"/Users/{alice['id']}", ops)
    assert status == 200, patched
    assert patched[ENTERPRISE]["manager"]["value"] == boss["id"]
    person = (await app.directory()).person("alice@example.com")
    assert person is not None
    assert person.attributes["manager"] == "bob@example.com"
    assert person.attributes["costCenter"] == "CC-7" and person.name == "Alice M. Doe"


async def _entra_deactivates_with_a_string_boolean(app: Any, alice: Resource) -> None:
    status, off, _ = await app.call(
        "PATCH",
        f"/Users/{alice['id']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
    )
    assert status == 200 and off["active"] is False


async def _entra_changes_group_membership(app: Any, boss: Resource) -> None:
    """Remove with a value, add of a member already there."""
    status, group, _ = await app.call(
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "Data Owners", "externalId": "g-1"},
    )
    assert status == 201 and "members" not in group
    for _ in range(2):
        status, group, _ = await app.call(
            "PATCH",
            f"/Groups/{group['id']}",
            {
                "schemas": [PATCH],
                "Operations": [{"op": "Add", "path": "members", "value": [{"value": boss["id"]}]}],
            },
        )
        assert status == 200 and [m["value"] for m in group["members"]] == [boss["id"]]
    status, group, _ = await app.call(
        "PATCH",
        f"/Groups/{group['id']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": boss["id"]}]}],
        },
    )
    assert status == 200 and "members" not in group


async def _entra_filters_find_them(app: Any, alice: Resource) -> None:
    _, found, _ = await app.call("GET", '/Groups?filter=displayName eq "data owners"')
    assert found["totalResults"] == 1
    _, found, _ = await app.call("GET", '/Users?filter=externalId eq "e-alice" and active eq false')
    assert [u["id"] for u in found["Resources"]] == [alice["id"]]


async def test_entra_capitalised_ops_string_booleans_and_manager(
    sqlite_url: str, encryption_key: str
) -> None:
    async with running(sqlite_url, encryption_key) as app:
        boss, alice = await _entra_creates_a_boss_and_alice(app)
        await _entra_patches_with_capitalised_ops(app, boss, alice)
        await _entra_deactivates_with_a_string_boolean(app, alice)
        await _entra_changes_group_membership(app, boss)
        await _entra_filters_find_them(app, alice)


async def _wrong_credentials_are_refused(app: Any, body: Resource) -> None:
    for headers in (
        {"Authorization": "Bearer wrong"},
        {"Authorization": ""},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        response = await app.client.post("/scim/v2/Users", json=body, headers=headers)
        assert response.status == 401
        error = await response.json(content_type=None)
        assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


async def _bad_documents_are_refused(app: Any, body: Resource) -> None:
    response = await app.client.post(
        "/scim/v2/Users",
        data=b"{not json",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"},
    )
    assert (
        response.status == 400
        and (await response.json(content_type=None))["scimType"] == "invalidSyntax"
    )
    status, error, _ = await app.call(
        "POST", "/Users", {**body, "schemas": [USER, "urn:example:unknown"]}
    )
    assert status == 400 and error["scimType"] == "invalidSyntax"
    status, error, _ = await app.call("GET", "/Users?filter=userName eq")
    assert status == 400 and error["scimType"] == "invalidFilter"


async def _a_config_file_person_is_refused_and_nothing_stored(app: Any) -> None:
    """Carol is in the config file: SCIM may not define her too."""
    status, error, _ = await app.call(
        "POST", "/Users", okta_user("carol@example.com", "Carol Lin", external_id="c")
    )
    assert status == 409 and error["scimType"] == "uniqueness"
    status, listed, _ = await app.call("GET", "/Users")
    assert listed["totalResults"] == 0


async def _changes_to_alice_are_refused(app: Any, body: Resource, alice: Resource) -> None:
    status, error, _ = await app.call("POST", "/Users", {**body, "userName": "ALICE@example.com"})
    assert status == 409 and error["scimType"] == "uniqueness"
    status, error, _ = await app.call(
        "PATCH",
        f"/Users/{alice['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "id", "value": "x"}]},
    )
    assert status == 400 and error["scimType"] == "mutability"
    status, error, _ = await app.call(
        "PATCH",
        f"/Users/{alice['id']}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "replace", "path": 'emails[type eq "home"].bogus[', "value": "x"}
            ],
        },
    )
    assert status == 400 and error["scimType"] in (
        "invalidPath",
        "invalidSyntax",
        "invalidValue",
    )
    status, error, _ = await app.call("PUT", f"/Users/{alice['id']}", body, **{"If-Match": 'W/"7"'})
    assert status == 412
    status, listed, _ = await app.call("GET", "/Users")
    assert listed["totalResults"] == 1 and listed["Resources"][0]["meta"]["version"] == 'W/"1"'


async def test_refusals_are_scim_errors_and_store_nothing(
    sqlite_url: str, encryption_key: str
) -> None:
    async with running(sqlite_url, encryption_key) as app:
        body = okta_user("alice@example.com", "Alice Doe", external_id="a")
        await _wrong_credentials_are_refused(app, body)
        await _bad_documents_are_refused(app, body)
        await _a_config_file_person_is_refused_and_nothing_stored(app)
        status, alice, _ = await app.call("POST", "/Users", body)
        assert status == 201
        await _changes_to_alice_are_refused(app, body, alice)


async def test_discovery_endpoints(sqlite_url: str, encryption_key: str) -> None:
    async with running(sqlite_url, encryption_key) as app:
        status, config, _ = await app.call("GET", "/ServiceProviderConfig")
        assert status == 200 and config["patch"]["supported"] and config["etag"]["supported"]
        status, types, _ = await app.call("GET", "/ResourceTypes")
        assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
        status, schemas, _ = await app.call("GET", "/Schemas")
        assert {s["id"] for s in schemas["Resources"]} == {USER, ENTERPRISE, GROUP}
        assert app.gatepass.platforms["scim"] == "ready"
