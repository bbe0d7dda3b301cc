"""Events a view could not apply: recorded and skipped, so one bad event never stops a projector

Revision ID: 0003
Revises: 0002
Created: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('projection_failures',
    sa.Column('view', sa.String(length=32), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=48), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('view', 'position')
    )


def downgrade() -> None:
    op.drop_table('projection_failures')
