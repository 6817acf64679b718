"""``gatepass check-config --online``: reach every configured service once, with the settings'
own credentials, and say which fails and why (never a secret).

The database (connect and ``SELECT 1``), Slack (``auth.test`` with the bot token), Teams (a
token from the token endpoint and the OpenID metadata with its signing keys) and each Atlas
integration (``bot.admin.online_problems``); and each webhook's URL, which must not redirect.
"""

from __future__ import annotations

import asyncio
from functools import partial

import sqlalchemy as sa

from bot import admin
from bot.health import DEFAULT_TIMEOUT, Check, database_check, first_line
from core.config.settings import Settings, sqlite_path
from core.storage.connections import connection_budget
from core.storage.store import Store


def _slack_check(settings: Settings) -> Check | None:
    config, secrets = settings.config.slack, settings.slack
    if config is None or secrets is None:
        return None
    from bot.slack.client import build_web_client
    from bot.slack.install import token_check

    client = build_web_client(
        token=secrets.bot_token.reveal(), api_url=config.api_url, connection_retries=0
    )
    return token_check(client)


def _teams_checks(settings: Settings) -> list[Check]:
    config, secrets = settings.config.teams, settings.teams
    if config is None or config.dev_mode or secrets is None:
        return []
    from bot.teams.auth import (
        BOT_FRAMEWORK_SCOPE,
        DEFAULT_OPENID_METADATA_URL,
        ClientCredentialsTokens,
        SigningKeys,
        SigningKeysUnavailable,
        TeamsAuthError,
        default_token_url,
    )

    tenant = secrets.tenant_id.reveal() if secrets.tenant_id else None
    tokens = ClientCredentialsTokens(
        token_url=config.token_url or default_token_url(tenant),
        client_id=secrets.app_id.reveal(),
        client_secret=secrets.app_password,
    )
    keys = SigningKeys(metadata_url=config.openid_metadata_url or DEFAULT_OPENID_METADATA_URL)

    async def token() -> str | None:
        try:
            await tokens.get(BOT_FRAMEWORK_SCOPE)
        except TeamsAuthError as error:
            return str(error)
        return None

    async def signing_keys() -> str | None:
        try:
            await keys.refresh()
        except SigningKeysUnavailable as error:
            return f"signing keys unavailable: {error}"
        return None

    return [Check("teams token", token), Check("teams signing keys", signing_keys)]


def _webhook_checks(settings: Settings) -> list[Check]:
    from core.webhooks.sender import redirect_problem

    return [
        Check(f"webhook {hook.name}", partial(redirect_problem, hook))
        for hook in settings.config.webhooks
    ]


def _connections_check(store: Store, settings: Settings) -> Check:
    async def connections() -> str | None:
        try:
            budget = await connection_budget(store, settings.config.database_pool)
        except (sa.exc.SQLAlchemyError, OSError):
            return None  # the database check says why it cannot be reached
        return None if budget is None else budget.problem()

    return Check("database connections", connections)


async def _run(check: Check) -> str | None:
    try:
        problem = await asyncio.wait_for(check.probe(), DEFAULT_TIMEOUT * 2)
    except TimeoutError:
        problem = f"no answer within {DEFAULT_TIMEOUT * 2:g}s"
    return None if problem is None else f"{check.name}: {first_line(problem)}"


async def online_problems(settings: Settings) -> list[str]:
    """One line per service that cannot be used, in the order above."""
    store = Store.from_url(settings.database_url)
    path = sqlite_path(settings.database_url)
    try:  # a SQLite file not made yet is no problem: serve and db upgrade create it
        exists = path is None or path.is_file()
        checks = [database_check(store, settings.database_url)] if exists else []
        checks += [_connections_check(store, settings)] if exists else []
        slack = _slack_check(settings)
        checks += ([slack] if slack is not None else []) + _teams_checks(settings)
        checks += _webhook_checks(settings)
        found = await asyncio.gather(*(_run(check) for check in checks))
    finally:
        await store.close()
    problems = [line for line in found if line is not None]
    return problems + await admin.online_problems(settings)
