"""The Atlas UI memberships table (registered by ``core.storage.models``)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.storage.models import _time


class AtlasMembership(SQLModel, table=True):
    """An Atlas UI membership Gatepass touched (see ``core.domain.memberships``)."""

    __tablename__ = "atlas_memberships"

    integration: str = Field(primary_key=True, max_length=64)
    person: str = Field(primary_key=True, max_length=320)
    scope: str = Field(primary_key=True, max_length=64)
    created: bool = False
    user_id: str | None = Field(default=None, max_length=64)
    pending: bool = False
    recorded_at: datetime = _time()
