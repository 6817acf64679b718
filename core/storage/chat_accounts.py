"""Chat accounts: which platform user is which person (by lower-cased email).

A person known on Slack and on Teams is one person: both accounts carry the same email. The
``extra`` mapping is the edge's own (a Teams conversation reference); core never reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import col, select

from core.context import Context
from core.domain.directory import normalize_email
from core.storage.models import ChatAccount
from core.storage.upsert import insert_or_ignore


async def remember(
    ctx: Context,
    *,
    platform: str,
    user_id: str,
    email: str,
    display_name: str = "",
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Store or refresh one platform account. Only people in the directory are stored.

    The row is made if missing (a concurrent first interaction of the same user makes it only
    once), then brought up to date under its row lock.
    """
    email = normalize_email(email)
    ctx.person(email)  # NotInDirectory: nothing is stored for strangers
    now = ctx.clock.now()
    async with ctx.store.transaction() as session:
        await insert_or_ignore(
            session,
            ChatAccount,
            {
                "platform": platform,
                "platform_user_id": user_id,
                "email": email,
                "display_name": display_name,
                "extra": dict(extra or {}),
                "updated_at": now,
            },
            key=["platform", "platform_user_id"],
        )
        row = await session.get(ChatAccount, (platform, user_id), with_for_update=True)
        assert row is not None
        row.email = email
        row.display_name = display_name or row.display_name
        if extra is not None:
            row.extra = dict(extra)
        row.updated_at = now


async def email_for(ctx: Context, *, platform: str, user_id: str) -> str | None:
    async with ctx.store.reading() as session:
        row = await session.get(ChatAccount, (platform, user_id))
    return row.email if row else None


async def account_for(ctx: Context, *, platform: str, email: str) -> ChatAccount | None:
    """The person's most recently seen account on ``platform``."""
    email = normalize_email(email)
    async with ctx.store.reading() as session:
        return (
            await session.execute(
                select(ChatAccount)
                .where(ChatAccount.platform == platform, col(ChatAccount.email) == email)
                .order_by(ChatAccount.updated_at.desc())  # type: ignore[attr-defined]
                .limit(1)
            )
        ).scalar_one_or_none()


async def account(ctx: Context, *, platform: str, user_id: str) -> ChatAccount | None:
    """One platform account by its platform user id (with the edge's ``extra``)."""
    async with ctx.store.reading() as session:
        return await session.get(ChatAccount, (platform, user_id))


async def accounts_for(ctx: Context, *, platform: str, emails: Iterable[str]) -> list[ChatAccount]:
    """Every account on ``platform`` of these people (one query, for a message's recipients)."""
    wanted = sorted({normalize_email(e) for e in emails})
    if not wanted:
        return []
    async with ctx.store.reading() as session:
        return list(
            (
                await session.execute(
                    select(ChatAccount).where(
                        col(ChatAccount.platform) == platform,
                        ChatAccount.email.in_(wanted),  # type: ignore[attr-defined]
                    )
                )
            ).scalars()
        )
