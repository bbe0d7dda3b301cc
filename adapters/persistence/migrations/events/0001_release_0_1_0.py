"""Release 0.1.0's tables beside the events: users, tokens, security log, webhooks

Revision ID: 0001
Revises: (none: the first revision, the schema release 0.1.0 made)
Created: 2026-11-21 23:38:53.995012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('nimrs_security_log',
    sa.Column('entry', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=2000), nullable=True),
    sa.PrimaryKeyConstraint('entry')
    )
    op.create_index('ix_nimrs_security_log_at', 'nimrs_security_log', ['at'], unique=False)
    op.create_index('ix_nimrs_security_log_facility', 'nimrs_security_log', ['facility'], unique=False)

    op.create_table('nimrs_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_nimrs_tokens_user_id', 'nimrs_tokens', ['user_id'], unique=False)

    op.create_table('nimrs_users',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('security_admin', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('state_reviewer', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('locked_out', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('nimrs_webhook_deliveries',
    sa.Column('subscription_id', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('subscription_id', 'position')
    )
    op.create_table('nimrs_webhook_subscriptions',
    sa.Column('subscription_id', sa.String(length=40), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('owner_facility', sa.String(length=64), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('types', sa.Text(), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subscription_id')
    )
    op.create_index('ix_nimrs_webhook_subscriptions_owner_facility', 'nimrs_webhook_subscriptions', ['owner_facility'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_nimrs_webhook_subscriptions_owner_facility', table_name='nimrs_webhook_subscriptions')

    op.drop_table('nimrs_webhook_subscriptions')
    op.drop_table('nimrs_webhook_deliveries')
    op.drop_table('nimrs_users')
    op.drop_index('ix_nimrs_tokens_user_id', table_name='nimrs_tokens')

    op.drop_table('nimrs_tokens')
    op.drop_index('ix_nimrs_security_log_facility', table_name='nimrs_security_log')
    op.drop_index('ix_nimrs_security_log_at', table_name='nimrs_security_log')

    op.drop_table('nimrs_security_log')
