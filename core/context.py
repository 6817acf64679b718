"""What every use case needs, built once at start by the composition root and never changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.config.schema import GatepassConfig, IntegrationBase
from core.config.secrets import SecretValue
from core.domain.directory import Directory, Person
from core.domain.errors import NotInDirectory, UnknownIntegration
from core.domain.ports import Clock, Doorbell, Integration, NoDoorbell
from core.storage.store import Store
from core.storage.vault import Vault


@dataclass(frozen=True)
class Context:
    """The domain's dependencies. Use cases never send chat messages: they queue notice jobs
    and ring ``doorbell`` after the commit, so that a worker of this process sends them at once
    (the notice handlers hold the notifiers, see ``core.jobs.notices``)."""

    config: GatepassConfig
    directory: Directory
    store: Store
    clock: Clock
    vault: Vault | None = None
    integrations: Mapping[str, Integration] = field(default_factory=dict)
    doorbell: Doorbell = field(default_factory=NoDoorbell)
    webhook_secrets: Mapping[str, SecretValue] = field(default_factory=dict)  # by webhook name

    def person(self, email: str) -> Person:
        person = self.directory.person(email)
        if person is None:
            raise NotInDirectory(email)
        return person

    def integration_config(self, name: str) -> IntegrationBase:
        try:
            return self.config.integration(name)
        except KeyError:
            raise UnknownIntegration(name) from None

    def integration(self, name: str) -> Integration:
        try:
            return self.integrations[name]
        except KeyError:
            raise UnknownIntegration(name) from None
