"""Release 0.1.0's read models and their positions

Revision ID: 0001
Revises: (none: the first revision, the schema release 0.1.0 made)
Created: 2026-11-21 23:38:54.015377
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('projection_positions',
    sa.Column('view', sa.String(length=32), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('view')
    )
    op.create_table('view_audit_entries',
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('actor_facility', sa.String(length=64), nullable=False),
    sa.Column('actor_level', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=48), nullable=False),
    sa.Column('state_before', sa.String(length=32), nullable=True),
    sa.Column('state_after', sa.String(length=32), nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('position')
    )
    op.create_index('ix_audit_actor_time', 'view_audit_entries', ['actor_id', 'recorded_at'], unique=False)
    op.create_index('ix_audit_facility_time', 'view_audit_entries', ['facility', 'recorded_at'], unique=False)
    op.create_index('ix_audit_incident', 'view_audit_entries', ['incident_id', 'version'], unique=False)

    op.create_table('view_audit_incidents',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_table('view_board_incidents',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('report_of_death_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('investigation_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_of_death_submitted', sa.Boolean(), nullable=False),
    sa.Column('closed_once', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_index('ix_board_state_since', 'view_board_incidents', ['facility', 'state', 'since'], unique=False)

    op.create_table('view_board_open_clocks',
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('clock', sa.String(length=24), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('facility', 'clock', 'due_at')
    )
    op.create_table('view_board_states',
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('facility', 'state')
    )
    op.create_table('view_overdue_clocks',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('clock', sa.String(length=24), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('program', sa.String(length=200), nullable=False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('incident_id', 'clock')
    )
    op.create_index('ix_overdue_by_facility', 'view_overdue_clocks', ['facility', 'due_at'], unique=False)
    op.create_index('ix_overdue_open', 'view_overdue_clocks', ['due_at'], unique=False, sqlite_where=sa.text('met_at IS NULL'), postgresql_where=sa.text('met_at IS NULL'))
    op.create_index('ix_overdue_open_by_facility', 'view_overdue_clocks', ['facility', 'due_at'], unique=False, sqlite_where=sa.text('met_at IS NULL'), postgresql_where=sa.text('met_at IS NULL'))

    op.create_table('view_overdue_incidents',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('program', sa.String(length=200), nullable=False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('first_closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_of_death_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_table('view_stats_counts',
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('facility', 'dimension', 'value', 'month')
    )
    op.create_table('view_stats_incidents',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('route', sa.String(length=32), nullable=False),
    sa.Column('harm_rating', sa.String(length=8), nullable=False),
    sa.Column('risk_rating', sa.String(length=8), nullable=False),
    sa.Column('setting', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('incident_id')
    )


def downgrade() -> None:
    op.drop_table('view_stats_incidents')
    op.drop_table('view_stats_counts')
    op.drop_table('view_overdue_incidents')
    op.drop_index('ix_overdue_open_by_facility', table_name='view_overdue_clocks', sqlite_where=sa.text('met_at IS NULL'), postgresql_where=sa.text('met_at IS NULL'))
    op.drop_index('ix_overdue_open', table_name='view_overdue_clocks', sqlite_where=sa.text('met_at IS NULL'), postgresql_where=sa.text('met_at IS NULL'))
    op.drop_index('ix_overdue_by_facility', table_name='view_overdue_clocks')

    op.drop_table('view_overdue_clocks')
    op.drop_table('view_board_states')
    op.drop_table('view_board_open_clocks')
    op.drop_index('ix_board_state_since', table_name='view_board_incidents')

    op.drop_table('view_board_incidents')
    op.drop_table('view_audit_incidents')
    op.drop_index('ix_audit_incident', table_name='view_audit_entries')
    op.drop_index('ix_audit_facility_time', table_name='view_audit_entries')
    op.drop_index('ix_audit_actor_time', table_name='view_audit_entries')

    op.drop_table('view_audit_entries')
    op.drop_table('projection_positions')
