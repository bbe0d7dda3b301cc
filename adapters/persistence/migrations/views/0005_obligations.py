"""Obligations in the views: one overdue row per obligation (its key, unit, provisional flag, waiver, and the
clock process's markers, with two partial indexes for its scans); the board and the incident list keep every
open obligation instead of the charts' two clocks

The overdue, board and incident-list views are rebuilt from the event log on the projector's next start (their
positions are removed with their tables). The event log itself is unchanged.

Revision ID: 0005
Revises: 0004
Created: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REBUILT_VIEWS = ('overdue', 'board', 'incident_list')
OPEN = 'met_at IS NULL AND waived_at IS NULL'


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    for table in ('view_overdue_clocks', 'view_overdue_incidents', 'view_board_incidents', 'view_board_states',
                  'view_board_open_clocks', 'view_incident_list'):
        op.drop_table(table)  # their indexes go with them
    positions = sa.table('projection_positions', sa.column('view', sa.String))
    failures = sa.table('projection_failures', sa.column('view', sa.String))
    op.execute(positions.delete().where(positions.c.view.in_(REBUILT_VIEWS)))
    op.execute(failures.delete().where(failures.c.view.in_(REBUILT_VIEWS)))

    op.create_table('view_overdue_clocks',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('clock', sa.String(length=32), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('program', sa.Text(), nullable=False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    _time('start_at', False), _time('due_at', False), _time('warn_at', False), _time('set_at', False),
    _time('met_at'), _time('waived_at'), _time('due_soon_recorded_at'), _time('missed_recorded_at'),
    sa.PrimaryKeyConstraint('incident_id', 'key')
    )
    op.create_index('ix_overdue_by_facility', 'view_overdue_clocks', ['facility', 'due_at'], unique=False)
    op.create_index('ix_overdue_open', 'view_overdue_clocks', ['due_at'], unique=False,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index('ix_overdue_open_by_facility', 'view_overdue_clocks', ['facility', 'due_at'], unique=False,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    miss, warn = f'{OPEN} AND missed_recorded_at IS NULL', f'{OPEN} AND due_soon_recorded_at IS NULL'
    op.create_index('ix_overdue_miss_pending', 'view_overdue_clocks', ['due_at'], unique=False,
                    sqlite_where=sa.text(miss), postgresql_where=sa.text(miss))
    op.create_index('ix_overdue_warn_pending', 'view_overdue_clocks', ['warn_at'], unique=False,
                    sqlite_where=sa.text(warn), postgresql_where=sa.text(warn))
    op.create_table('view_overdue_incidents',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('program', sa.Text(), nullable=False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('obligations', sa.String(length=32), nullable=False),
    _time('first_closed_at'), _time('report_of_death_at'),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_table('view_board_incidents',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    _time('since', False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('obligations', sa.String(length=32), nullable=False),
    sa.Column('open_obligations', sa.Text(), nullable=True),
    sa.Column('report_of_death_submitted', sa.Boolean(), nullable=False),
    sa.Column('closed_once', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('incident_id')
    )
    op.create_index('ix_board_state_since', 'view_board_incidents', ['facility', 'state', 'since'], unique=False)
    op.create_index('ix_board_state_since_everywhere', 'view_board_incidents', ['state', 'since'], unique=False)
    op.create_table('view_board_states',
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('facility', 'state')
    )
    op.create_table('view_board_open_clocks',
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('clock', sa.String(length=32), nullable=False),
    _time('due_at', False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('facility', 'clock', 'due_at')
    )
    op.create_table('view_incident_list',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('jc_case_number', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    _time('state_since', False), _time('reported_at', False), _time('created_at', False),
    sa.Column('route', sa.String(length=32), nullable=True),
    sa.Column('obligations', sa.String(length=32), nullable=False),
    sa.Column('open_obligations', sa.Text(), nullable=True),
    _time('next_due'),
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


def downgrade() -> None:
    raise NotImplementedError("the views are rebuilt from the event log: delete the views database and start again")
