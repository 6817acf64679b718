"""break-glass uses and their reviews

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:40:00.000000

- ``break_glass_uses``: one row per break-glass request; ``(person, day, slot)`` is unique, so
  the per-person daily limit holds even when two uses are recorded at once; the integration
  owners' review (acknowledged or flagged, by whom, when) is kept on the same row.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

import core.storage.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "break_glass_uses",
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("used_at", core.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("review", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("reviewed_at", core.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"]),
        sa.PrimaryKeyConstraint("request_id"),
        sa.UniqueConstraint("person", "day", "slot"),
    )
    with op.batch_alter_table("break_glass_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_break_glass_uses_person"), ["person"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("break_glass_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_glass_uses_person"))
    op.drop_table("break_glass_uses")
