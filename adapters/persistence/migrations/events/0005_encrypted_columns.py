"""Room for encrypted values: webhook signing secrets and security log details as text of any length

With ``NIMRS_CIPHER_KEY`` set these columns hold AES-GCM ciphertext in base64, longer than the
values themselves (``adapters.persistence.cipher``).

Revision ID: 0005
Revises: 0004
Created: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('nimrs_webhook_subscriptions') as subscriptions:
        subscriptions.alter_column('secret', type_=sa.Text(), existing_type=sa.String(length=100),
                                   existing_nullable=False)
    with op.batch_alter_table('nimrs_security_log') as log:
        log.alter_column('detail', type_=sa.Text(), existing_type=sa.String(length=2000), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('nimrs_security_log') as log:
        log.alter_column('detail', type_=sa.String(length=2000), existing_type=sa.Text(), existing_nullable=True)
    with op.batch_alter_table('nimrs_webhook_subscriptions') as subscriptions:
        subscriptions.alter_column('secret', type_=sa.String(length=100), existing_type=sa.Text(),
                                   existing_nullable=False)
