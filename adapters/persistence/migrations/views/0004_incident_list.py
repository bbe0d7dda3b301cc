"""The incident list (one row per incident, to list and search them), and indexes for state reviewers'
boards and audit trails of every facility

The projector fills the list from the whole event log on its next start (a new view starts at position 0).

Revision ID: 0004
Revises: 0003
Created: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('view_incident_list',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('state_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('route', sa.String(length=32), nullable=True),
    sa.Column('report_of_death_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('investigation_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_of_death_submitted', sa.Boolean(), nullable=False),
    sa.Column('closed_once', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_index('ix_incident_list_facility_state', 'view_incident_list', ['facility', 'state', 'reported_at'],
                    unique=False)
    op.create_index('ix_incident_list_facility_reported', 'view_incident_list', ['facility', 'reported_at'],
                    unique=False)
    op.create_index('ix_incident_list_reported', 'view_incident_list', ['reported_at'], unique=False)
    op.create_index('ix_incident_list_jc_case', 'view_incident_list', ['jc_case_number'], unique=False)
    op.create_index('ix_board_state_since_everywhere', 'view_board_incidents', ['state', 'since'], unique=False)
    op.create_index('ix_audit_time', 'view_audit_entries', ['recorded_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_time', table_name='view_audit_entries')
    op.drop_index('ix_board_state_since_everywhere', table_name='view_board_incidents')
    op.drop_index('ix_incident_list_jc_case', table_name='view_incident_list')
    op.drop_index('ix_incident_list_reported', table_name='view_incident_list')
    op.drop_index('ix_incident_list_facility_reported', table_name='view_incident_list')
    op.drop_index('ix_incident_list_facility_state', table_name='view_incident_list')
    op.drop_table('view_incident_list')
