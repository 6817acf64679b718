"""The personal chat's commands (request, list, pending, help) and the resource typeahead."""

from __future__ import annotations

from tests.teams.harness import (
    ALICE,
    BOB,
    CAROL,
    TeamsHarness,
    card_text,
    card_verbs,
    submit_request,
)


async def test_help_and_unknown_commands(teams: TeamsHarness) -> None:
    assert await teams.say(ALICE, "help") == 201
    assert await teams.say(ALICE, "please give me root") == 201
    helped, confused = teams.cards_to(ALICE)
    for card in (helped, confused):
        for command in ("request", "list", "pending", "help"):
            assert f"**{command}**" in card_text(card)
    assert "did not understand" in card_text(confused)


async def test_the_bots_mention_is_ignored(teams: TeamsHarness) -> None:
    mention = teams.channel.message(
        "<at>Gatepass</at> request",
        user=ALICE,
        entities=[
            {
                "type": "mention",
                "text": "<at>Gatepass</at>",
                "mentioned": {
                    "id": teams.channel.activity("message", user=ALICE)["recipient"]["id"]
                },
            }
        ],
    )
    assert (await teams.post(mention))[0] == 201
    assert "Request access" in card_text(teams.cards_to(ALICE)[-1])


async def test_list_shows_my_requests_and_access(teams: TeamsHarness) -> None:
    for member in (ALICE, BOB, CAROL):
        await teams.install(member)
    assert await teams.say(ALICE, "list") == 201
    empty = card_text(teams.cards_to(ALICE)[-1])
    assert "You hold no access through Gatepass right now." in empty
    assert "You have not requested anything yet." in empty

    first = await submit_request(teams, ALICE)
    second = await submit_request(
        teams, ALICE, resource="cluster:Cluster0", permission="clusterMonitor"
    )
    await teams.run_jobs()
    await teams.click(BOB, "approval.approve", {"request": first})
    await teams.run_jobs()
    assert await teams.say(ALICE, "list") == 201
    listed = card_text(teams.cards_to(ALICE)[-1])
    assert f"{first}  read on database analytics (prod-atlas) — active" in listed
    assert f"{second}  clusterMonitor on cluster Cluster0 (prod-atlas) — pending" in listed
    assert "read on database analytics (prod-atlas) until 2026-11-23 11:00 UTC" in listed


async def test_pending_shows_what_waits_for_my_decision(teams: TeamsHarness) -> None:
    for member in (ALICE, BOB, CAROL):
        await teams.install(member)
    assert await teams.say(BOB, "pending") == 201
    assert "Nothing waits for your decision" in card_text(teams.cards_to(BOB)[-1])

    request_id = await submit_request(teams, ALICE)
    before = len(teams.cards_to(BOB))
    assert await teams.say(BOB, "pending") == 201
    intro, card = teams.cards_to(BOB)[before:]
    assert "1 request waits for your decision" in card_text(intro)
    assert request_id in card_text(card)
    assert card_verbs(card) == ["approval.approve", "approval.deny"]

    approved = await teams.click(BOB, "approval.approve", {"request": request_id})
    assert "Approved by Bob Ray" in card_text(approved)
    assert await teams.say(CAROL, "pending") == 201
    assert "Nothing waits for your decision" in card_text(teams.cards_to(CAROL)[-1])


async def test_resource_typeahead_answers_application_search(teams: TeamsHarness) -> None:
    await teams.install(ALICE)
    assert await teams.say(ALICE, "request") == 201
    resource_input = next(e for e in teams.cards_to(ALICE)[-1]["body"] if e.get("id") == "resource")
    dataset = resource_input["choices.data"]["dataset"]
    assert resource_input["choices.data"]["type"] == "Data.Query"
    assert resource_input["style"] == "filtered"

    search = teams.channel.activity(
        "invoke",
        user=ALICE,
        name="application/search",
        value={
            "queryText": "analytics",
            "queryOptions": {"skip": 0, "top": 15},
            "dataset": dataset,
        },
    )
    status, body = await teams.post(search)
    assert status == 200
    assert body == {
        "type": "application/vnd.microsoft.search.searchResponse",
        "value": {
            "results": [
                {"title": "database analytics", "value": "database:analytics"},
                {"title": "database analytics_eu", "value": "database:analytics_eu"},
            ]
        },
    }
    # billing is discovered but no flow lets Alice request it
    status, body = await teams.post({**search, "value": {**search["value"], "queryText": "bill"}})
    assert (status, body["value"]["results"]) == (200, [])

    picked = await teams.click(
        ALICE, "form.refresh", {"resource": "database:analytics_eu", "permission": "read"}
    )
    assert "Who will approve" in card_text(picked)
    assert "Dave Kim" in card_text(picked)  # owner tag on analytics_eu: data-eng (not Alice)
