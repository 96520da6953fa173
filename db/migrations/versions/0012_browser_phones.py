"""browser phones: the secret handed to a signed-in page, call quality measured by the pages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'browser_phones',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.String(length=64), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('issued_at', UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_browser_phones_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['web_sessions.id'],
                                name=op.f('fk_browser_phones_session_id_web_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_browser_phones')),
    )
    op.create_index(op.f('ix_browser_phones_session_id'), 'browser_phones', ['session_id'], unique=False)
    op.create_table(
        'call_quality',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=64), nullable=False),
        sa.Column('queue_call_id', sa.Integer(), nullable=True),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        sa.Column('codec', sa.String(length=40), nullable=True),
        sa.Column('packets_received', sa.Integer(), nullable=False),
        sa.Column('packets_lost', sa.Integer(), nullable=False),
        sa.Column('packets_sent', sa.Integer(), nullable=False),
        sa.Column('jitter_ms', sa.Float(), nullable=True),
        sa.Column('max_jitter_ms', sa.Float(), nullable=True),
        sa.Column('rtt_ms', sa.Float(), nullable=True),
        sa.Column('max_rtt_ms', sa.Float(), nullable=True),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('ended', sa.Boolean(), nullable=False),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_call_quality_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['queue_call_id'], ['queue_calls.id'],
                                name=op.f('fk_call_quality_queue_call_id_queue_calls'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_call_quality_attempt_id_attempts'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_quality')),
        sa.UniqueConstraint('user_id', 'channel_id', name=op.f('uq_call_quality_user_id')),
    )
    for column in ('user_id', 'channel_id', 'queue_call_id', 'attempt_id', 'updated_at'):
        op.create_index(op.f(f'ix_call_quality_{column}'), 'call_quality', [column], unique=False)


def downgrade() -> None:
    for column in ('user_id', 'channel_id', 'queue_call_id', 'attempt_id', 'updated_at'):
        op.drop_index(op.f(f'ix_call_quality_{column}'), table_name='call_quality')
    op.drop_table('call_quality')
    op.drop_index(op.f('ix_browser_phones_session_id'), table_name='browser_phones')
    op.drop_table('browser_phones')
