"""Builds the domain's context from settings: store, directory, vault, integrations."""

from __future__ import annotations

import logging

from core.config.settings import Settings
from core.context import Context
from core.domain.directory import ConfigDirectory, Directory, LiveDirectory
from core.domain.ports import Clock, Doorbell, Integration, NoDoorbell, SystemClock
from core.storage.store import Store
from core.storage.vault import Vault
from core.webhooks import outbox

log = logging.getLogger("gatepass")


def build_integrations(
    settings: Settings, clock: Clock, *, store: Store | None = None
) -> dict[str, Integration]:
    """One adapter per integration whose secret resolved; the others stay left out. With
    ``store``, the Portal integrations record the memberships they create in its database."""
    from core.integrations import build_integration
    from core.storage.memberships import StoredMemberships

    ledger = StoredMemberships(store) if store is not None else None
    built: dict[str, Integration] = {}
    for config in settings.config.integrations:
        secret = settings.integration_secrets.get(config.name)
        if secret is not None:
            built[config.name] = build_integration(config, secret, clock=clock, ledger=ledger)
    return built


def build_directory(settings: Settings, store: Store) -> Directory:
    """The config file's people alone, or, with ``directory.scim``, combined with the people
    provisioned into the database, kept current at the start of every transaction (see
    ``core.storage.directory``). Nobody is defined twice: SCIM refuses a person the config file
    lists, and the start refuses a config file naming someone SCIM provisions."""
    if settings.config.directory.scim is None:
        return ConfigDirectory(settings.config.directory)
    from core.storage import directory as stored

    live = LiveDirectory(settings.config.directory)
    stored.watch(store, live)
    return live


def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    integrations: dict[str, Integration] | None = None,
    doorbell: Doorbell | None = None,
) -> Context:
    """The context, once: ``doorbell`` is the worker's of this process (none for a tool)."""
    clock = clock or SystemClock()
    store = store or Store.from_url(settings.database_url, pool=settings.config.database_pool)
    outbox.subscribe(store, settings.config.webhooks)
    return Context(
        config=settings.config,
        directory=build_directory(settings, store),
        store=store,
        clock=clock,
        vault=Vault(settings.encryption_key) if settings.encryption_key else None,
        integrations=integrations
        if integrations is not None
        else build_integrations(settings, clock, store=store),
        doorbell=doorbell or NoDoorbell(),
        webhook_secrets=settings.webhook_secrets,
    )
