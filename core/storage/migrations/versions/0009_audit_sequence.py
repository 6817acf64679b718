"""audit sequence: events get their place in the hash chain from a sequencer

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:30:00

Every existing event is already chained in ``seq`` order: its chain position is its ``seq``,
so the chains written before this migration verify unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("chain_seq", sa.Integer(), nullable=True))
    op.execute("UPDATE audit_events SET chain_seq = seq")
    op.create_index("ix_audit_events_chain_seq", "audit_events", ["chain_seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_audit_events_chain_seq", table_name="audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("chain_seq")
