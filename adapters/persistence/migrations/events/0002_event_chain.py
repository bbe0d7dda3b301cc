"""The event log's hash chain (tamper evidence): one link per stored event

Revision ID: 0002
Revises: 0001
Created: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('nimrs_event_chain',
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('position')
    )


def downgrade() -> None:
    op.drop_table('nimrs_event_chain')
