"""Account controls: disabled accounts, one-time passwords, rate limits, anonymous refusals per address and minute

Revision ID: 0004
Revises: 0003
Created: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('nimrs_users') as users:
        users.add_column(sa.Column('disabled', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        users.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.text('false'),
                                   nullable=False))
        users.add_column(sa.Column('password_reset_by', sa.String(length=64), nullable=True))
        users.add_column(sa.Column('password_reset_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('nimrs_rate_limits',
    sa.Column('bucket', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket')
    )
    op.create_index('ix_nimrs_rate_limits_window_start', 'nimrs_rate_limits', ['window_start'], unique=False)
    op.create_table('nimrs_anonymous_refusals',
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('minute', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refusals', sa.Integer(), nullable=False),
    sa.Column('rate_limited', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('address', 'minute')
    )
    op.create_index('ix_nimrs_anonymous_refusals_minute', 'nimrs_anonymous_refusals', ['minute'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_nimrs_anonymous_refusals_minute', table_name='nimrs_anonymous_refusals')
    op.drop_table('nimrs_anonymous_refusals')
    op.drop_index('ix_nimrs_rate_limits_window_start', table_name='nimrs_rate_limits')
    op.drop_table('nimrs_rate_limits')
    with op.batch_alter_table('nimrs_users') as users:
        users.drop_column('password_reset_at')
        users.drop_column('password_reset_by')
        users.drop_column('must_change_password')
        users.drop_column('disabled')
