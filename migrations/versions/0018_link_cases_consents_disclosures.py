"""Programme B: link cases and their steps, the youths' consents, and what each hand-over disclosed

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:38:17.408137
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base
import referral.db.encryption


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link_cases',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('youth_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('authority', sa.String(length=30), nullable=False),
    sa.Column('district_id', sa.String(length=36), nullable=True),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('next_due_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('purpose', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('data_key_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_link_cases_data_key_id_data_keys')),
    sa.ForeignKeyConstraint(['district_id'], ['organisations.id'], name=op.f('fk_link_cases_district_id_organisations')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_link_cases_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['youth_id'], ['youths.id'], name=op.f('fk_link_cases_youth_id_youths')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_cases'))
    )
    with op.batch_alter_table('link_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_cases_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_cases_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_cases_next_due_on'), ['next_due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_cases_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_cases_youth_id'), ['youth_id'], unique=False)

    op.create_table('youth_consents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('youth_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('authority', sa.String(length=30), nullable=False),
    sa.Column('categories', sa.String(length=100), nullable=False),
    sa.Column('given_by', sa.String(length=20), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', referral.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.Column('purpose', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('legal_reference', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('data_key_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_youth_consents_data_key_id_data_keys')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_youth_consents_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['youth_id'], ['youths.id'], name=op.f('fk_youth_consents_youth_id_youths')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_youth_consents'))
    )
    with op.batch_alter_table('youth_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_youth_consents_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youth_consents_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youth_consents_youth_id'), ['youth_id'], unique=False)

    op.create_table('link_disclosures',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('basis', sa.String(length=30), nullable=False),
    sa.Column('consent_id', sa.String(length=36), nullable=False),
    sa.Column('disclosed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['link_cases.id'], name=op.f('fk_link_disclosures_case_id_link_cases')),
    sa.ForeignKeyConstraint(['consent_id'], ['youth_consents.id'], name=op.f('fk_link_disclosures_consent_id_youth_consents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_disclosures'))
    )
    with op.batch_alter_table('link_disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_disclosures_case_id'), ['case_id'], unique=False)

    op.create_table('link_steps',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['link_cases.id'], name=op.f('fk_link_steps_case_id_link_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_steps'))
    )
    with op.batch_alter_table('link_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_steps_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('link_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_steps_case_id'))

    op.drop_table('link_steps')
    with op.batch_alter_table('link_disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_disclosures_case_id'))

    op.drop_table('link_disclosures')
    with op.batch_alter_table('youth_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_youth_consents_youth_id'))
        batch_op.drop_index(batch_op.f('ix_youth_consents_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_youth_consents_data_key_id'))

    op.drop_table('youth_consents')
    with op.batch_alter_table('link_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_cases_youth_id'))
        batch_op.drop_index(batch_op.f('ix_link_cases_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_link_cases_next_due_on'))
        batch_op.drop_index(batch_op.f('ix_link_cases_district_id'))
        batch_op.drop_index(batch_op.f('ix_link_cases_data_key_id'))

    op.drop_table('link_cases')
