"""The read audit: who read which incident's content, when, through which view

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
    op.create_table('nimrs_read_audit',
    sa.Column('entry', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('incident_facility', sa.String(length=64), nullable=False),
    sa.Column('view', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('entry')
    )
    op.create_index('ix_nimrs_read_audit_incident_at', 'nimrs_read_audit', ['incident_id', 'at'], unique=False)
    op.create_index('ix_nimrs_read_audit_user_at', 'nimrs_read_audit', ['user_id', 'at'], unique=False)
    op.create_index('ix_nimrs_read_audit_facility_at', 'nimrs_read_audit', ['incident_facility', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_nimrs_read_audit_facility_at', table_name='nimrs_read_audit')
    op.drop_index('ix_nimrs_read_audit_user_at', table_name='nimrs_read_audit')
    op.drop_index('ix_nimrs_read_audit_incident_at', table_name='nimrs_read_audit')
    op.drop_table('nimrs_read_audit')
