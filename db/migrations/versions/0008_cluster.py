"""several nodes on one database: nodes, the node of each attempt, one live attempt per phone, operators'
home nodes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

LIVE = "state <> 'ended'"


def upgrade() -> None:
    op.create_table(
        'nodes',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('process', sa.String(length=40), nullable=False),
        sa.Column('host', sa.String(length=120), nullable=False),
        sa.Column('web_only', sa.Boolean(), nullable=False),
        sa.Column('sip_host', sa.String(length=120), nullable=True),
        sa.Column('sip_port', sa.Integer(), nullable=True),
        sa.Column('rtp_start', sa.Integer(), nullable=True),
        sa.Column('rtp_end', sa.Integer(), nullable=True),
        sa.Column('trunks', sa.JSON(), nullable=False),
        sa.Column('asterisk_up', sa.Boolean(), nullable=False),
        sa.Column('lines_free', sa.Integer(), nullable=False),
        sa.Column('registered', sa.JSON(), nullable=False),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        sa.Column('heartbeat_at', UtcDateTime(), nullable=False),
        sa.Column('stopped_at', UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_nodes')),
    )
    op.create_index(op.f('ix_nodes_heartbeat_at'), 'nodes', ['heartbeat_at'], unique=False)
    op.create_table(
        'cluster_keys',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cluster_keys')),
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_attempts_node_state', ['node', 'state'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_node', sa.String(length=40), nullable=True))
    # one live attempt per phone, whichever node dials it: end older duplicates first (there should be none)
    op.execute(f"""UPDATE attempts SET state = 'ended', disposition = 'failed',
        detail = 'ended by the upgrade: another attempt to this phone was open'
        WHERE {LIVE} AND id NOT IN (SELECT max(id) FROM attempts WHERE {LIVE} GROUP BY phone)""")
    op.create_index('uq_attempts_live_phone', 'attempts', ['phone'], unique=True,
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def downgrade() -> None:
    op.drop_index('uq_attempts_live_phone', table_name='attempts')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('home_node')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_node_state')
        batch_op.drop_column('node')
    op.drop_table('cluster_keys')
    op.drop_index(op.f('ix_nodes_heartbeat_at'), table_name='nodes')
    op.drop_table('nodes')
