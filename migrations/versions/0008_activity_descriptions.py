"""activity descriptions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_descriptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('programme', sa.String(length=30), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_activity_descriptions_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_descriptions')),
    sa.UniqueConstraint('programme', 'partner_id', 'version', name=op.f('uq_activity_descriptions_programme'))
    )
    with op.batch_alter_table('activity_descriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_descriptions_partner_id'), ['partner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activity_descriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_descriptions_partner_id'))

    op.drop_table('activity_descriptions')
