"""broadcast calls: the recording an outreach campaign plays, the voice messages people leave for the leader

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outreach_campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording', sa.String(length=60), nullable=True))
    op.create_table(
        'outreach_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('ac_no', sa.Integer(), nullable=True),
        sa.Column('booth', sa.String(length=200), nullable=True),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['outreach_campaigns.id'],
                                name=op.f('fk_outreach_replies_campaign_id_outreach_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['attempt_id'], ['outreach_attempts.id'],
                                name=op.f('fk_outreach_replies_attempt_id_outreach_attempts'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['contact_id'], ['outreach_contacts.id'],
                                name=op.f('fk_outreach_replies_contact_id_outreach_contacts'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_replies')),
        sa.UniqueConstraint('name', name=op.f('uq_outreach_replies_name')),
    )
    op.create_index('ix_outreach_replies_campaign_at', 'outreach_replies', ['campaign_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outreach_replies_campaign_at', table_name='outreach_replies')
    op.drop_table('outreach_replies')
    with op.batch_alter_table('outreach_campaigns', schema=None) as batch_op:
        batch_op.drop_column('recording')
