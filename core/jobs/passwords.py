"""The password of a person's account, waiting for its reveals.

One Atlas user serves every grant of a person, so its password belongs to the account: it is
kept sealed on the account (``integration_accounts.password_ciphertext``) while any grant on it
lives, and each grant holds a sealed copy waiting for that grant's one reveal. A new password
(a new user, a rotation) replaces the copy of every live grant, since the old one no longer
works; a grant made on an existing user gets a copy of the current one. A grant's copy goes at
its reveal or its end; the account's goes with the last grant.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.config.secrets import SecretValue
from core.storage.integration_accounts import IN_FLIGHT
from core.storage.models import AccessRequest, Grant, IntegrationAccount
from core.storage.vault import Vault


async def _account(session: AsyncSession, integration: str, person: str) -> IntegrationAccount:
    row = await session.get(IntegrationAccount, (integration, person))
    if row is None:
        row = IntegrationAccount(integration=integration, person=person)
        session.add(row)
    return row


async def _live_grant_rows(session: AsyncSession, integration: str, person: str) -> list[Grant]:
    rows = await session.execute(
        select(Grant)
        .join(AccessRequest, col(AccessRequest.id) == col(Grant.request_id))
        .where(
            col(Grant.integration) == integration,
            col(Grant.person) == person,
            col(AccessRequest.status).in_([status.value for status in IN_FLIGHT]),
        )
    )
    return list(rows.scalars())


async def hand_over(
    session: AsyncSession,
    vault: Vault,
    grant: Grant,
    password: SecretValue | None,
) -> None:
    """Give ``grant`` (added to the session) its copy of the account's password: ``password``
    when the integration made a new one (every live grant's copy is replaced), else the current
    one."""
    account = await _account(session, grant.integration, grant.person)
    if password is None:
        grant.password_ciphertext = account.password_ciphertext
        return
    sealed = vault.seal(password)
    account.password_ciphertext = sealed
    for other in await _live_grant_rows(session, grant.integration, grant.person):
        other.password_ciphertext = sealed
    grant.password_ciphertext = sealed


async def replace_for_all(
    session: AsyncSession, vault: Vault, integration: str, person: str, password: SecretValue
) -> None:
    """A rotation: the new password for the account and every live grant's copy."""
    sealed = vault.seal(password)
    (await _account(session, integration, person)).password_ciphertext = sealed
    for grant in await _live_grant_rows(session, integration, person):
        grant.password_ciphertext = sealed


async def erase(
    session: AsyncSession, integration: str, person: str, request_id: str, *, last: bool
) -> None:
    """A grant ended: its copy goes; with the ``last`` grant on the account, the account's."""
    grant = await session.get(Grant, request_id)
    if grant is not None:
        grant.password_ciphertext = None
    if last:
        account = await session.get(IntegrationAccount, (integration, person))
        if account is not None:
            account.password_ciphertext = None
