"""Alert mail: the outbox of messages to send and the router's position in the event log

Revision ID: 0006
Revises: 0005
Created: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('nimrs_mail_outbox',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('smtp_reply', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('message_id')
    )
    op.create_index('ix_nimrs_mail_outbox_facility', 'nimrs_mail_outbox', ['facility'], unique=False)
    op.create_index('ix_nimrs_mail_outbox_status_next', 'nimrs_mail_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_table('nimrs_mail_router',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('nimrs_mail_router')
    op.drop_index('ix_nimrs_mail_outbox_status_next', table_name='nimrs_mail_outbox')
    op.drop_index('ix_nimrs_mail_outbox_facility', table_name='nimrs_mail_outbox')
    op.drop_table('nimrs_mail_outbox')
