"""post-incident reviews: reviews, their change log, action items; incidents marked as exercises

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('is_exercise', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('owner_reason', sa.Text(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.Text(), nullable=True),
    sa.Column('sections', sa.JSON(), nullable=False),
    sa.Column('edited', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_reviews_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_reviews_incident_id'))
    )
    op.create_index(op.f('ix_reviews_status_due_at'), 'reviews', ['status', 'due_at'], unique=False)
    op.create_table('review_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.Text(), nullable=False),
    sa.Column('what', sa.String(length=64), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_changes_review_id_reviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_changes'))
    )
    op.create_index(op.f('ix_review_changes_review_id_id'), 'review_changes', ['review_id', 'id'], unique=False)
    op.create_table('review_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tracker_url', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_actions_review_id_reviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_actions'))
    )
    op.create_index(op.f('ix_review_actions_review_id'), 'review_actions', ['review_id'], unique=False)
    op.create_index(op.f('ix_review_actions_status_due_at'), 'review_actions', ['status', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_review_actions_status_due_at'), table_name='review_actions')
    op.drop_index(op.f('ix_review_actions_review_id'), table_name='review_actions')
    op.drop_table('review_actions')
    op.drop_index(op.f('ix_review_changes_review_id_id'), table_name='review_changes')
    op.drop_table('review_changes')
    op.drop_index(op.f('ix_reviews_status_due_at'), table_name='reviews')
    op.drop_table('reviews')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('is_exercise')
