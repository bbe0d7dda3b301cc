"""Room for an encrypted program name in the overdue view (text of any length)

With ``NIMRS_CIPHER_KEY`` set the program (free text) is stored as AES-GCM ciphertext in base64,
longer than the name itself (``projections.encryption``).

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
    for table in ('view_overdue_clocks', 'view_overdue_incidents'):
        with op.batch_alter_table(table) as view:
            view.alter_column('program', type_=sa.Text(), existing_type=sa.String(length=200), existing_nullable=False)


def downgrade() -> None:
    for table in ('view_overdue_clocks', 'view_overdue_incidents'):
        with op.batch_alter_table(table) as view:
            view.alter_column('program', type_=sa.String(length=200), existing_type=sa.Text(), existing_nullable=False)
