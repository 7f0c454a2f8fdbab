"""Programme B: a youth found (youth_findings), and concern reports about a youth

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:51:20.280518
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base
import referral.db.encryption


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

SUBJECTS_BEFORE = "subject_kind IN ('known_child', 'described')"
SUBJECTS_NOW = "subject_kind IN ('known_child', 'described', 'youth')"


def upgrade() -> None:
    op.create_table('youth_findings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('youth_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('found_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=30), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('district_id', sa.String(length=36), nullable=True),
    sa.Column('concern_report_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['concern_report_id'], ['concern_reports.id'], name=op.f('fk_youth_findings_concern_report_id_concern_reports')),
    sa.ForeignKeyConstraint(['district_id'], ['organisations.id'], name=op.f('fk_youth_findings_district_id_organisations')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_youth_findings_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['youth_id'], ['youths.id'], name=op.f('fk_youth_findings_youth_id_youths')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_youth_findings'))
    )
    with op.batch_alter_table('youth_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_youth_findings_concern_report_id'), ['concern_report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youth_findings_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youth_findings_youth_id'), ['youth_id'], unique=False)

    with op.batch_alter_table('concern_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('youth_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_concern_reports_youth_id'), ['youth_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_concern_reports_youth_id_youths'), 'youths', ['youth_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_concern_reports_concern_subject_known'))
        batch_op.create_check_constraint('concern_subject_known', SUBJECTS_NOW)
        batch_op.create_check_constraint(
            'youth_named', "(subject_kind = 'youth') = (youth_id IS NOT NULL)"
        )



def downgrade() -> None:
    op.execute("DELETE FROM concern_reports WHERE subject_kind = 'youth'")
    with op.batch_alter_table('concern_reports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_concern_reports_youth_named'))
        batch_op.drop_constraint(op.f('ck_concern_reports_concern_subject_known'))
        batch_op.create_check_constraint('concern_subject_known', SUBJECTS_BEFORE)
        batch_op.drop_constraint(batch_op.f('fk_concern_reports_youth_id_youths'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_concern_reports_youth_id'))
        batch_op.drop_column('youth_id')

    with op.batch_alter_table('youth_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_youth_findings_youth_id'))
        batch_op.drop_index(batch_op.f('ix_youth_findings_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_youth_findings_concern_report_id'))

    op.drop_table('youth_findings')
