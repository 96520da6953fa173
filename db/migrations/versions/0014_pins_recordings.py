"""hotline PINs (tickets and calls say whether the caller proved who they are), operators' call recordings

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None
RECORDING_INDEXES = ('channel_id', 'queue_call_id', 'attempt_id', 'campaign_id', 'user_id', 'person_id', 'started_at')


def upgrade() -> None:
    op.create_table(
        'member_pins',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('pin_hash', sa.String(length=200), nullable=False),
        sa.Column('set_by', sa.String(length=100), nullable=True),
        sa.Column('set_at', UtcDateTime(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', UtcDateTime(), nullable=True),
        sa.Column('verified_at', UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_member_pins_person_id_people'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('person_id', name=op.f('pk_member_pins')),
    )
    op.create_table(
        'call_recordings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('format', sa.String(length=10), nullable=False),
        sa.Column('channel_id', sa.String(length=64), nullable=False),
        sa.Column('queue_call_id', sa.Integer(), nullable=True),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('caller_phone', sa.String(length=20), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('duration', sa.Integer(), nullable=True),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        sa.Column('ended_at', UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['queue_call_id'], ['queue_calls.id'],
                                name=op.f('fk_call_recordings_queue_call_id_queue_calls'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_call_recordings_attempt_id_attempts'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_call_recordings_campaign_id_campaigns'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_call_recordings_user_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_call_recordings_person_id_people'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_recordings')),
        sa.UniqueConstraint('name', name=op.f('uq_call_recordings_name')),
    )
    for column in RECORDING_INDEXES:
        op.create_index(op.f(f'ix_call_recordings_{column}'), 'call_recordings', [column], unique=False)
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('record_calls', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('ivr_calls') as batch:
        batch.add_column(sa.Column('caller_verified', sa.Boolean(), nullable=True))
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('reporter_verified', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('reporter_verified')
    with op.batch_alter_table('ivr_calls') as batch:
        batch.drop_column('caller_verified')
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('record_calls')
    for column in RECORDING_INDEXES:
        op.drop_index(op.f(f'ix_call_recordings_{column}'), table_name='call_recordings')
    op.drop_table('call_recordings')
    op.drop_table('member_pins')
