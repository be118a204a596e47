"""playbook: ticks, workarounds, client requests, runbook texts

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-04 18:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('playbook_ticks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=128), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('by', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_playbook_ticks_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_ticks'))
    )
    with op.batch_alter_table('playbook_ticks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playbook_ticks_incident_id_item_id'), ['incident_id', 'item_id'],
                              unique=True)

    op.create_table('workarounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('added_by', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_workarounds_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workarounds'))
    )
    with op.batch_alter_table('workarounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workarounds_incident_id'), ['incident_id'], unique=False)

    op.create_table('client_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.Text(), nullable=True),
    sa.Column('miss_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                            name=op.f('fk_client_requests_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_requests'))
    )
    with op.batch_alter_table('client_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_requests_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_requests_miss_recorded_at_due_at'),
                              ['miss_recorded_at', 'due_at'], unique=False)

    op.create_table('runbook_texts',
    sa.Column('file', sa.String(length=255), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('file', name=op.f('pk_runbook_texts'))
    )


def downgrade() -> None:
    op.drop_table('runbook_texts')
    with op.batch_alter_table('client_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_requests_miss_recorded_at_due_at'))
        batch_op.drop_index(batch_op.f('ix_client_requests_incident_id'))
    op.drop_table('client_requests')
    with op.batch_alter_table('workarounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workarounds_incident_id'))
    op.drop_table('workarounds')
    with op.batch_alter_table('playbook_ticks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playbook_ticks_incident_id_item_id'))
    op.drop_table('playbook_ticks')
