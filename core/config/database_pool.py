"""``database_pool``: how many PostgreSQL connections each Gatepass process may hold.

Every ``serve`` and ``worker`` process opens at most ``size + overflow`` connections for its
transactions, and one more to listen for job wake-ups. PostgreSQL refuses clients beyond its
``max_connections`` (100 by default, a few kept for superusers): the processes of a deployment
together must stay under it, or requests fail with "too many clients already".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field, field_validator

from core.config.sections import Strict, _duration

LISTENERS = 1  # the wake-up connection (``core.storage.wakeups``), outside the pool


class DatabasePool(Strict):
    # Kept open: the worker's jobs in flight, its heartbeat, and the chat edges' reads.
    size: int = Field(10, ge=1, le=500)
    # Opened beyond ``size`` under a burst, closed when given back.
    overflow: int = Field(10, ge=0, le=500)
    # How long a transaction waits for a free connection before it fails.
    timeout: timedelta = timedelta(seconds=10)

    _d = field_validator("timeout", mode="before")(classmethod(lambda cls, v: _duration(v)))

    @property
    def most_per_process(self) -> int:
        """Connections one process may hold at once, its listener included."""
        return self.size + self.overflow + LISTENERS

    def engine_options(self) -> dict[str, Any]:
        """SQLAlchemy's pool options for this section."""
        return {
            "pool_size": self.size,
            "max_overflow": self.overflow,
            "pool_timeout": self.timeout.total_seconds(),
        }
