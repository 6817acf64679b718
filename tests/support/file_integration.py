"""An Integration whose state lives in a JSON file, so that worker processes share it and a
killed one leaves it behind. Every call is appended to a journal with the process id."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.config.secrets import SecretValue
from core.domain.ports import (
    AccessGrant,
    AccountState,
    ConnectionDetails,
    DiscoveredResource,
    GrantResult,
    ManagedAccess,
    RevokeResult,
)


class FileIntegration:
    def __init__(self, name: str, folder: Path, *, slow_seconds: float = 0.0) -> None:
        self.name = name
        self.state_path = folder / f"{name}.state.json"
        self.journal_path = folder / f"{name}.journal"
        self.slow_seconds = slow_seconds

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        with open(self.state_path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = (
                json.loads(self.state_path.read_text())
                if self.state_path.exists()
                else {"accounts": {}}
            )
            yield state
            self.state_path.write_text(json.dumps(state))

    def _journal(self, event: str, subject: str) -> None:
        with open(self.journal_path, "a") as journal:
            journal.write(f"{os.getpid()} {event} {subject}\n")
            journal.flush()
            os.fsync(journal.fileno())

    def journal(self) -> list[tuple[int, str, str]]:
        if not self.journal_path.exists():
            return []
        lines = self.journal_path.read_text().splitlines()
        return [(int(p), e, s) for p, e, s in (line.split(" ", 2) for line in lines)]

    def accounts(self) -> dict[str, list[str]]:
        return (
            json.loads(self.state_path.read_text())["accounts"] if self.state_path.exists() else {}
        )

    def _slow(self) -> None:
        if self.slow_seconds:
            time.sleep(self.slow_seconds)  # blocking on purpose: the process is killed in here

    async def check(self) -> None:
        return None

    async def discover(self) -> list[DiscoveredResource]:
        return []

    async def grant(
        self, grant: AccessGrant, *, active: Sequence[AccessGrant], account: AccountState | None
    ) -> GrantResult:
        self._journal("grant-start", grant.grant_id)
        self._slow()
        username = "gp-" + grant.person.split("@")[0]
        with self._state() as state:
            fresh = username not in state["accounts"]
            state["accounts"][username] = sorted(
                {f"{g.permission}@{g.resource.key}" for g in active}
            )
        self._journal("grant-done", grant.grant_id)
        return GrantResult(
            account=AccountState(username=username),
            connection=ConnectionDetails(
                username=username, connection_string="mongodb+srv://file.example"
            ),
            password=SecretValue("file-pw-123456") if fresh else None,
        )

    async def ready(self, grant: AccessGrant, *, account: AccountState) -> bool:
        return True

    async def revoke(
        self, grant: AccessGrant, *, remaining: Sequence[AccessGrant], account: AccountState | None
    ) -> RevokeResult:
        self._journal("revoke-start", grant.grant_id)
        self._slow()
        username = "gp-" + grant.person.split("@")[0]
        with self._state() as state:
            if remaining:
                state["accounts"][username] = sorted(
                    {f"{g.permission}@{g.resource.key}" for g in remaining}
                )
            else:
                state["accounts"].pop(username, None)
        self._journal("revoke-done", grant.grant_id)
        return RevokeResult(account=account if remaining else None)

    async def refresh(
        self, person: str, *, active: Sequence[AccessGrant], account: AccountState
    ) -> GrantResult | None:
        return None

    async def cleanup(self, person: str, *, account: AccountState) -> None:
        return None

    async def list_managed(self) -> list[ManagedAccess]:
        return []

    async def remove_managed(self, access: ManagedAccess) -> None:
        return None
