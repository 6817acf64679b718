"""Who a Teams user is: conversation references stored on install, conversationUpdate and
message, keyed by AAD object id, with the email of the member lookup; strangers told and not
stored; one person across platforms."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from core.storage import chat_accounts
from core.storage.models import ChatAccount
from core.use_cases import requests
from core.use_cases.eligibility import Draft
from tests.fakes.teams import APP_ID
from tests.teams.harness import (
    ALICE,
    BOB,
    DAVE,
    ERIN,
    MALLORY,
    TeamsHarness,
    card_text,
    conversation_of,
)


async def accounts(teams: TeamsHarness) -> list[ChatAccount]:
    async with teams.ctx.store.reading() as session:
        return list((await session.execute(sa.select(ChatAccount))).scalars())


async def test_installation_stores_the_reference_keyed_by_aad_id(teams: TeamsHarness) -> None:
    assert await teams.install(ALICE) == 201

    stored = await chat_accounts.account(teams.ctx, platform="teams", user_id=ALICE.aad_object_id)
    assert stored is not None
    assert stored.email == "alice@example.com"
    assert stored.display_name == "Alice Doe"
    reference = stored.extra["reference"]
    assert reference["conversation"]["id"] == conversation_of(ALICE)
    assert reference["serviceUrl"] == teams.connector.url
    assert reference["user"]["id"] == ALICE.id
    assert "activityId" not in reference  # later messages are not replies to the install
    assert stored.extra["user_id"] == ALICE.id
    welcome = teams.cards_to(ALICE)[-1]
    assert "Welcome to Gatepass" in card_text(welcome)
    assert await teams.gatepass.notifiers[0].reachable("alice@example.com")


async def test_conversation_update_and_messages_store_it_too(teams: TeamsHarness) -> None:
    update = teams.channel.activity(
        "conversationUpdate", user=BOB, membersAdded=[{"id": f"28:{APP_ID}"}]
    )
    assert (await teams.post(update))[0] == 201
    assert teams.sent_to(BOB) == []  # no greeting twice: installationUpdate greets
    assert await chat_accounts.email_for(
        teams.ctx, platform="teams", user_id=BOB.aad_object_id
    ) == ("bob@example.com")

    assert await teams.say(DAVE, "help") == 201  # never installed: the first message counts
    assert await chat_accounts.email_for(
        teams.ctx, platform="teams", user_id=DAVE.aad_object_id
    ) == ("dave@example.com")
    lookups = len(teams.connector.member_lookups)
    assert await teams.say(DAVE, "help") == 201
    assert len(teams.connector.member_lookups) == lookups  # known and current: no lookup

    moved = teams.channel.message("help", user=DAVE)
    moved["conversation"]["id"] = "a:personal-new-chat"
    assert (await teams.post(moved))[0] == 201
    stored = await chat_accounts.account(teams.ctx, platform="teams", user_id=DAVE.aad_object_id)
    assert stored is not None
    assert stored.extra["reference"]["conversation"]["id"] == "a:personal-new-chat"


async def test_email_falls_back_to_the_user_principal_name(teams: TeamsHarness) -> None:
    assert await teams.install(ERIN) == 201
    assert await chat_accounts.email_for(
        teams.ctx, platform="teams", user_id=ERIN.aad_object_id
    ) == ("erin@example.com")


async def test_a_stranger_is_told_privately_and_nothing_is_stored(teams: TeamsHarness) -> None:
    assert await teams.install(MALLORY) == 201
    assert await teams.say(MALLORY, "request") == 201
    told = [a.text for a in teams.sent_to(MALLORY)]
    assert len(told) == 2
    assert all("mallory@example.com is not in Gatepass's directory" in t for t in told)
    said = await teams.click_for_message(MALLORY, "form.refresh", {})
    assert "not in Gatepass's directory" in said
    assert await accounts(teams) == []
    assert not await teams.gatepass.notifiers[0].reachable("mallory@example.com")


async def test_an_unknown_member_is_not_stored(teams: TeamsHarness) -> None:
    ghost = replace(ALICE, id="29:1ghost", aad_object_id="00000000-0000-4000-8000-0000000000ff")
    assert await teams.say(ghost, "help") == 201  # the connector does not know them
    [told] = teams.sent_to(ghost)
    assert "cannot see the email address of your Teams account" in (told.text or "")
    assert await accounts(teams) == []


async def test_one_person_on_both_platforms(teams: TeamsHarness) -> None:
    await chat_accounts.remember(
        teams.ctx, platform="slack", user_id="U0ALICE", email="Alice@Example.com"
    )
    assert await teams.install(ALICE) == 201
    slack = await chat_accounts.account_for(teams.ctx, platform="slack", email="alice@example.com")
    teams_account = await chat_accounts.account_for(
        teams.ctx, platform="teams", email="alice@example.com"
    )
    assert slack is not None and teams_account is not None
    assert slack.email == teams_account.email == "alice@example.com"

    draft = Draft("prod-atlas", "database", "analytics", "read", timedelta(hours=1), "from Slack")
    view = await requests.submit(
        teams.ctx, requester="alice@example.com", draft=draft, platform="slack"
    )
    assert await teams.say(ALICE, "list") == 201
    listed = card_text(teams.cards_to(ALICE)[-1])
    assert view.id in listed  # asked in Slack, listed in Teams: the same person
