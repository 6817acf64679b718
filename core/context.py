"""What every use case needs, built once at start by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from core.config.schema import GatepassConfig, IntegrationBase
from core.domain.directory import Directory, Person
from core.domain.errors import NotInDirectory, UnknownIntegration
from core.domain.ports import Clock, Integration, Notifier
from core.storage.store import Store
from core.storage.vault import Vault


def _nothing() -> None:
    return None


@dataclass
class Context:
    config: GatepassConfig
    directory: Directory
    store: Store
    clock: Clock
    vault: Vault | None = None
    integrations: Mapping[str, Integration] = field(default_factory=dict)
    notifiers: Sequence[Notifier] = ()
    # Called after a commit that queued jobs, so an in-process worker picks them up at once.
    wake_worker: Callable[[], None] = _nothing

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
