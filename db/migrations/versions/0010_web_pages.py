"""the pages: instructions can be retired; directory imports run as jobs

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import UtcDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instructions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('retired_by', sa.String(length=100), nullable=True))
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', 'interrupted', name='job_state',
                                   native_enum=False, length=20), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=True),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('checked_by', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('started_at', UtcDateTime(), nullable=True),
        sa.Column('finished_at', UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['checked_by'], ['import_jobs.id'], name=op.f('fk_import_jobs_checked_by_import_jobs'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
    )
    op.create_index(op.f('ix_import_jobs_created_at'), 'import_jobs', ['created_at'], unique=False)
    op.create_index(op.f('ix_import_jobs_state'), 'import_jobs', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_import_jobs_state'), table_name='import_jobs')
    op.drop_index(op.f('ix_import_jobs_created_at'), table_name='import_jobs')
    op.drop_table('import_jobs')
    with op.batch_alter_table('instructions', schema=None) as batch_op:
        batch_op.drop_column('retired_by')
        batch_op.drop_column('retired_at')
