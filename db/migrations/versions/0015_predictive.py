"""predictive dialing: a campaign's pacing and abandon cap; call-back tasks for abandoned calls

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pacing', sa.Enum('progressive', 'predictive', name='campaign_pacing',
                                                        native_enum=False, length=20),
                                      nullable=False, server_default='progressive'))
        batch_op.add_column(sa.Column('abandon_cap', sa.Float(), nullable=False, server_default='0.03'))
    op.create_table(
        'callback_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('state', sa.Enum('open', 'done', name='callback_state', native_enum=False, length=20),
                  nullable=False),
        sa.Column('done_by', sa.String(length=100), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('done_at', UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_callback_tasks_campaign_id_campaigns'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_callback_tasks_attempt_id_attempts'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_callback_tasks_person_id_people'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_tasks')),
        sa.UniqueConstraint('attempt_id', name=op.f('uq_callback_tasks_attempt_id')),
    )
    op.create_index(op.f('ix_callback_tasks_campaign_id'), 'callback_tasks', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_callback_tasks_person_id'), 'callback_tasks', ['person_id'], unique=False)
    op.create_index('ix_callback_tasks_state_created', 'callback_tasks', ['state', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('callback_tasks')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('abandon_cap')
        batch_op.drop_column('pacing')
