"""Chat accounts: one person across platforms; strangers are never stored; races are safe."""

from __future__ import annotations

import asyncio

import pytest

from core.domain.errors import NotInDirectory
from core.storage import chat_accounts
from core.storage.models import ChatAccount
from tests.support.domain import Domain


async def test_same_email_on_two_platforms_is_one_person(domain: Domain) -> None:
    await chat_accounts.remember(
        domain.ctx, platform="slack", user_id="U1", email="Alice@Example.com"
    )
    await chat_accounts.remember(
        domain.ctx, platform="teams", user_id="aad-1", email="alice@example.com", extra={"ref": 1}
    )
    assert (
        await chat_accounts.email_for(domain.ctx, platform="slack", user_id="U1")
        == "alice@example.com"
    )
    teams = await chat_accounts.account_for(domain.ctx, platform="teams", email="ALICE@example.com")
    assert teams is not None and teams.platform_user_id == "aad-1" and teams.extra == {"ref": 1}


async def test_a_stranger_is_not_stored(domain: Domain) -> None:
    with pytest.raises(NotInDirectory):
        await chat_accounts.remember(
            domain.ctx, platform="slack", user_id="U666", email="mallory@evil.example"
        )
    assert await chat_accounts.email_for(domain.ctx, platform="slack", user_id="U666") is None


async def test_simultaneous_first_interactions_store_one_row(domain: Domain) -> None:
    from tests.core.test_concurrency import _second_context

    other = _second_context(domain)
    try:
        await asyncio.gather(
            *(
                chat_accounts.remember(
                    ctx,
                    platform="slack",
                    user_id="U2",
                    email="bob@example.com",
                    display_name=f"Bob {i}",
                )
                for i, ctx in enumerate([domain.ctx, other] * 3)
            )
        )
    finally:
        await other.store.close()
    async with domain.ctx.store.reading() as session:
        row = await session.get(ChatAccount, ("slack", "U2"))
    assert row is not None and row.email == "bob@example.com"
