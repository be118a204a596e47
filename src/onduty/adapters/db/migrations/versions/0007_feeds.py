"""data feeds: reference profiles, keyed snapshots, batch verdicts

Revision ID: 0007
Revises: 0012
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feed_references',
    sa.Column('feed_id', sa.String(length=64), nullable=False),
    sa.Column('profile', sa.LargeBinary(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', name=op.f('pk_feed_references'))
    )
    op.create_table('feed_snapshots',
    sa.Column('feed_id', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.LargeBinary(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('feed_id', name=op.f('pk_feed_snapshots'))
    )
    op.create_table('feed_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_batches'))
    )
    op.create_index(op.f('ix_feed_batches_feed_id_id'), 'feed_batches', ['feed_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_feed_batches_feed_id_id'), table_name='feed_batches')
    op.drop_table('feed_batches')
    op.drop_table('feed_snapshots')
    op.drop_table('feed_references')
