"""real phone lines: why a campaign waits (its trunks are down), several trunks per campaign, SIP bans

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('waiting', sa.Text(), nullable=True))
        batch.alter_column('trunk', existing_type=sa.String(length=60), type_=sa.String(length=200),
                           existing_nullable=False)
    op.create_table(
        'sip_bans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('banned_at', UtcDateTime(), nullable=False),
        sa.Column('until', UtcDateTime(), nullable=False),
        sa.Column('lifted_at', UtcDateTime(), nullable=True),
        sa.Column('lifted_by', sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sip_bans')),
    )
    op.create_index('ix_sip_bans_address', 'sip_bans', ['address'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sip_bans_address', table_name='sip_bans')
    op.drop_table('sip_bans')
    with op.batch_alter_table('campaigns') as batch:
        batch.alter_column('trunk', existing_type=sa.String(length=200), type_=sa.String(length=60),
                           existing_nullable=False)
        batch.drop_column('waiting')
