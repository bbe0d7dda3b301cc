"""Facility settings (the obligation rules new incidents pin, alert rules), append-only; an email address per user
for receipts

Revision ID: 0007
Revises: 0006
Created: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('nimrs_facility_settings',
    sa.Column('entry', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('entry')
    )
    op.create_index('ix_nimrs_facility_settings_latest', 'nimrs_facility_settings', ['facility', 'kind', 'entry'],
                    unique=False)
    with op.batch_alter_table('nimrs_users') as users:
        users.add_column(sa.Column('email', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nimrs_users') as users:
        users.drop_column('email')
    op.drop_index('ix_nimrs_facility_settings_latest', table_name='nimrs_facility_settings')
    op.drop_table('nimrs_facility_settings')
