"""Atlas UI memberships Gatepass touched: which it created, for the Portal reconciler

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

import core.storage.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "atlas_memberships",
        sa.Column("integration", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", core.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration", "person", "scope"),
    )


def downgrade() -> None:
    op.drop_table("atlas_memberships")
