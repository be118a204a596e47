"""detector state: baselines, CUSUM statistics and window counters, so a restart continues

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-04 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('detector_states',
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('detector_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('service_id', 'detector_id', name=op.f('pk_detector_states'))
    )


def downgrade() -> None:
    op.drop_table('detector_states')
