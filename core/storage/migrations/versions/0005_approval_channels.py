"""approval channels: the chat channels Gatepass may post approval asks to

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

import core.storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_channels",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("updated_at", core.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "channel_id"),
    )


def downgrade() -> None:
    op.drop_table("chat_channels")
