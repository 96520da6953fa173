"""counting day: counting plans per AC, their rounds, each table's votes per party per round, alerts

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def _fk(table: str, column: str, other: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{other}.id'], name=op.f(f'fk_{table}_{column}_{other}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        'count_plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ac_id', sa.Integer(), nullable=False),
        sa.Column('counting_date', sa.Date(), nullable=False),
        sa.Column('starts', sa.String(length=5), nullable=False),
        sa.Column('round_minutes', sa.Integer(), nullable=False),
        sa.Column('rounds', sa.Integer(), nullable=False),
        sa.Column('tables', sa.Integer(), nullable=False),
        sa.Column('parties', sa.JSON(), nullable=False),
        sa.Column('timezone', sa.String(length=60), nullable=False),
        sa.Column('posts', sa.JSON(), nullable=False),
        sa.Column('use_alternate', sa.Boolean(), nullable=False),
        sa.Column('script', sa.String(length=60), nullable=False),
        sa.Column('call_delay', sa.Integer(), nullable=False),
        sa.Column('max_votes', sa.Integer(), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        _fk('count_plans', 'ac_id', 'units', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_count_plans')),
        sa.UniqueConstraint('ac_id', name=op.f('uq_count_plans_ac_id')),
    )
    op.create_table(
        'count_rounds',
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
        _fk('count_rounds', 'plan_id', 'count_plans', 'CASCADE'),
        _fk('count_rounds', 'campaign_id', 'campaigns', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_count_rounds')),
        sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_count_rounds_plan_id')),
    )
    op.create_table(
        'count_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('table_no', sa.Integer(), nullable=False),
        sa.Column('party', sa.String(length=40), nullable=False),
        sa.Column('votes', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('call_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        _fk('count_reports', 'plan_id', 'count_plans', 'CASCADE'),
        _fk('count_reports', 'person_id', 'people', 'SET NULL'),
        _fk('count_reports', 'call_id', 'ivr_calls', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_count_reports')),
        sa.UniqueConstraint('plan_id', 'round', 'table_no', 'party', name=op.f('uq_count_reports_plan_id')),
    )
    op.create_table(
        'count_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('table_no', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('done_by', sa.String(length=100), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        _fk('count_alerts', 'plan_id', 'count_plans', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_count_alerts')),
        sa.UniqueConstraint('plan_id', 'round', 'table_no', 'kind', name=op.f('uq_count_alerts_plan_id')),
    )
    for table in ('count_reports', 'count_alerts'):
        op.create_index(op.f(f'ix_{table}_plan_id'), table, ['plan_id'], unique=False)


def downgrade() -> None:
    for table in ('count_reports', 'count_alerts'):
        op.drop_index(op.f(f'ix_{table}_plan_id'), table_name=table)
    for table in ('count_alerts', 'count_reports', 'count_rounds', 'count_plans'):
        op.drop_table(table)
