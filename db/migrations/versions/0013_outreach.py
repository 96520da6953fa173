"""voter outreach: lists and contacts, opt-outs, outreach campaigns and attempts, missed calls

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

def upgrade() -> None:

    op.create_table('opt_outs',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_opt_outs'))
    )
    op.create_table('outreach_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_lists')),
    sa.UniqueConstraint('name', name=op.f('uq_outreach_lists_name'))
    )
    op.create_table('outreach_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('mcmc_ref', sa.String(length=120), nullable=True),
    sa.Column('caller_id', sa.String(length=40), nullable=True),
    sa.Column('trunk', sa.String(length=200), nullable=False),
    sa.Column('trunk_category', sa.String(length=40), nullable=True),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('scrubbed', sa.JSON(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('started_at', UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['list_id'], ['outreach_lists.id'], name=op.f('fk_outreach_campaigns_list_id_outreach_lists'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_outreach_campaigns_name'))
    )
    op.create_table('outreach_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('alt_phone', sa.String(length=20), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=True),
    sa.Column('ac_no', sa.Integer(), nullable=True),
    sa.Column('booth', sa.String(length=200), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('consent_source', sa.String(length=100), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_outreach_contacts_person_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_contacts')),
    sa.UniqueConstraint('phone', name=op.f('uq_outreach_contacts_phone'))
    )
    with op.batch_alter_table('outreach_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_contacts_person_id'), ['person_id'], unique=False)

    op.create_table('missed_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('did', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('callback_at', UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['outreach_contacts.id'], name=op.f('fk_missed_calls_contact_id_outreach_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missed_calls'))
    )
    with op.batch_alter_table('missed_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missed_calls_at'), ['at'], unique=False)
        batch_op.create_index('ix_missed_calls_phone_at', ['phone', 'at'], unique=False)

    op.create_table('outreach_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.Column('caller_id', sa.String(length=40), nullable=False),
    sa.Column('trunk', sa.String(length=100), nullable=False),
    sa.Column('trunk_category', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('listened_s', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['outreach_campaigns.id'], name=op.f('fk_outreach_attempts_campaign_id_outreach_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['outreach_contacts.id'], name=op.f('fk_outreach_attempts_contact_id_outreach_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_attempts'))
    )
    with op.batch_alter_table('outreach_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_outreach_attempts_campaign_at', ['campaign_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_attempts_phone'), ['phone'], unique=False)

    op.create_table('outreach_list_entries',
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['outreach_contacts.id'], name=op.f('fk_outreach_list_entries_contact_id_outreach_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['outreach_lists.id'], name=op.f('fk_outreach_list_entries_list_id_outreach_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'contact_id', name=op.f('pk_outreach_list_entries'))
    )

def downgrade() -> None:

    op.drop_table('outreach_list_entries')
    with op.batch_alter_table('outreach_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_attempts_phone'))
        batch_op.drop_index('ix_outreach_attempts_campaign_at')

    op.drop_table('outreach_attempts')
    with op.batch_alter_table('missed_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_missed_calls_phone_at')
        batch_op.drop_index(batch_op.f('ix_missed_calls_at'))

    op.drop_table('missed_calls')
    with op.batch_alter_table('outreach_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_contacts_person_id'))

    op.drop_table('outreach_contacts')
    op.drop_table('outreach_campaigns')
    op.drop_table('outreach_lists')
    op.drop_table('opt_outs')

