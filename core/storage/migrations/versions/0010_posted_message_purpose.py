"""posted messages: room for the longest purpose (``expiry_warning:<the end, ISO 8601>``)

A requester notice is remembered as ``<notice>:<key>``; an expiry warning's key is the end it
warns of, 40 characters in all, which PostgreSQL refused in a column of 32 (SQLite does not
check lengths): the warning was posted, its record failed, and the job posted it again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:00:00.000000
"""

from __future__ import annotations

import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posted_messages") as table:
        table.alter_column(
            "purpose",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=96),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("posted_messages") as table:
        table.alter_column(
            "purpose",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=96),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
        )
