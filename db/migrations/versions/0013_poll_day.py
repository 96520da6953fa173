"""poll day: a number step's answer is stored as an integer

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ivr_answers') as batch:
        batch.add_column(sa.Column('number', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ivr_answers') as batch:
        batch.drop_column('number')
