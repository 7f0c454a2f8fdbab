"""Programme B: two records of one youth, linked (reversibly), and pairs dismissed from the duplicate queue

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 11:01:57.731951
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base
import referral.db.encryption


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('youth_links',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('first_id', sa.String(length=36), nullable=False),
    sa.Column('second_id', sa.String(length=36), nullable=False),
    sa.Column('linked_by', sa.String(length=64), nullable=False),
    sa.Column('linked_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('unlinked_by', sa.String(length=64), nullable=True),
    sa.Column('unlinked_at', referral.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('first_id < second_id', name=op.f('ck_youth_links_youth_link_ordered')),
    sa.ForeignKeyConstraint(['first_id'], ['youths.id'], name=op.f('fk_youth_links_first_id_youths')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_youth_links_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['second_id'], ['youths.id'], name=op.f('fk_youth_links_second_id_youths')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_youth_links'))
    )
    with op.batch_alter_table('youth_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_youth_links_first_id'), ['first_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youth_links_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youth_links_second_id'), ['second_id'], unique=False)

    op.create_table('youth_pair_dismissals',
    sa.Column('first_id', sa.String(length=36), nullable=False),
    sa.Column('second_id', sa.String(length=36), nullable=False),
    sa.Column('dismissed_by', sa.String(length=64), nullable=False),
    sa.Column('dismissed_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['first_id'], ['youths.id'], name=op.f('fk_youth_pair_dismissals_first_id_youths')),
    sa.ForeignKeyConstraint(['second_id'], ['youths.id'], name=op.f('fk_youth_pair_dismissals_second_id_youths')),
    sa.PrimaryKeyConstraint('first_id', 'second_id', name=op.f('pk_youth_pair_dismissals'))
    )


def downgrade() -> None:
    op.drop_table('youth_pair_dismissals')
    with op.batch_alter_table('youth_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_youth_links_second_id'))
        batch_op.drop_index(batch_op.f('ix_youth_links_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_youth_links_first_id'))

    op.drop_table('youth_links')
