"""worker heartbeats, waiting deadlines and the account's sealed password

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:08:42.651573

- ``workers``: one row per running worker, its heartbeat renewed every tick; a lease held by a
  worker whose heartbeat is stale is free to take over.
- ``integration_accounts.locked_by_worker``: the worker behind an account lease's holder.
- ``integration_accounts.password_ciphertext``: the account's current password, sealed, kept
  while any grant on the account lives.
- ``jobs.waiting_since``: since when a job has kept rescheduling itself (its deadline counts
  from there).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

import core.storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", core.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", core.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_seen_at"), ["seen_at"], unique=False)

    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "password_ciphertext",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "locked_by_worker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "waiting_since", core.storage.models.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("waiting_since")

    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.drop_column("locked_by_worker")
        batch_op.drop_column("password_ciphertext")

    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_seen_at"))

    op.drop_table("workers")
