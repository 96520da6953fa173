"""poll day: a number step's answer as an integer; poll-day plans, rounds, reports and alerts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _fk(table: str, column: str, other: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{other}.id'], name=op.f(f'fk_{table}_{column}_{other}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    with op.batch_alter_table('ivr_answers') as batch:
        batch.add_column(sa.Column('number', sa.Integer(), nullable=True))
    op.create_table(
        'poll_plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ac_id', sa.Integer(), nullable=False),
        sa.Column('poll_date', sa.Date(), nullable=False),
        sa.Column('opens', sa.String(length=5), nullable=False),
        sa.Column('closes', sa.String(length=5), nullable=False),
        sa.Column('report_times', sa.JSON(), nullable=False),
        sa.Column('close_round', sa.Boolean(), nullable=False),
        sa.Column('timezone', sa.String(length=60), nullable=False),
        sa.Column('posts', sa.JSON(), nullable=False),
        sa.Column('use_alternate', sa.Boolean(), nullable=False),
        sa.Column('script', sa.String(length=60), nullable=False),
        sa.Column('call_delay', sa.Integer(), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        _fk('poll_plans', 'ac_id', 'units', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_plans')),
        sa.UniqueConstraint('ac_id', name=op.f('uq_poll_plans_ac_id')),
    )
    op.create_table(
        'poll_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=10), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('until', UtcDateTime(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        _fk('poll_rounds', 'plan_id', 'poll_plans', 'CASCADE'),
        _fk('poll_rounds', 'campaign_id', 'campaigns', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_rounds')),
        sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_poll_rounds_plan_id')),
    )
    op.create_table(
        'poll_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('booth_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('call_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('votes', sa.Integer(), nullable=True),
        sa.Column('ours', sa.Integer(), nullable=True),
        sa.Column('problem', sa.String(length=30), nullable=True),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        _fk('poll_reports', 'plan_id', 'poll_plans', 'CASCADE'),
        _fk('poll_reports', 'booth_id', 'units', 'CASCADE'),
        _fk('poll_reports', 'person_id', 'people', 'SET NULL'),
        _fk('poll_reports', 'call_id', 'ivr_calls', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_reports')),
        sa.UniqueConstraint('plan_id', 'round', 'booth_id', name=op.f('uq_poll_reports_plan_id')),
    )
    op.create_table(
        'poll_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('booth_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('done_by', sa.String(length=100), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        _fk('poll_alerts', 'plan_id', 'poll_plans', 'CASCADE'),
        _fk('poll_alerts', 'booth_id', 'units', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_alerts')),
        sa.UniqueConstraint('plan_id', 'round', 'booth_id', 'kind', name=op.f('uq_poll_alerts_plan_id')),
    )
    for table in ('poll_reports', 'poll_alerts'):
        for column in ('plan_id', 'booth_id'):
            op.create_index(op.f(f'ix_{table}_{column}'), table, [column], unique=False)


def downgrade() -> None:
    for table in ('poll_reports', 'poll_alerts'):
        for column in ('plan_id', 'booth_id'):
            op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
    for table in ('poll_alerts', 'poll_reports', 'poll_rounds', 'poll_plans'):
        op.drop_table(table)
    with op.batch_alter_table('ivr_answers') as batch:
        batch.drop_column('number')
