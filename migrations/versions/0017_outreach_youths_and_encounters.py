"""Programme B: youths met in outreach, and encounters (anonymous or linked to a youth)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:18:37.599955
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base
import referral.db.encryption


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('youths',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('alias', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('personnummer', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('personnummer_index', sa.Integer(), nullable=True),
    sa.Column('lma_number', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('lma_number_index', sa.Integer(), nullable=True),
    sa.Column('dossier_number', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('dossier_number_index', sa.Integer(), nullable=True),
    sa.Column('birth_date', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('birth_year', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('gender', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('country_of_origin', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('situation', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('district_id', sa.String(length=36), nullable=True),
    sa.Column('registered_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('data_key_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_youths_data_key_id_data_keys')),
    sa.ForeignKeyConstraint(['district_id'], ['organisations.id'], name=op.f('fk_youths_district_id_organisations')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_youths_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_youths'))
    )
    with op.batch_alter_table('youths', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_youths_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youths_dossier_number_index'), ['dossier_number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_youths_lma_number_index'), ['lma_number_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_youths_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_youths_personnummer_index'), ['personnummer_index'], unique=False)

    op.create_table('encounters',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=30), nullable=False),
    sa.Column('needs', sa.String(length=200), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=True),
    sa.Column('age_band', sa.String(length=10), nullable=True),
    sa.Column('youth_id', sa.String(length=36), nullable=True),
    sa.Column('linked_by', sa.String(length=64), nullable=True),
    sa.Column('linked_at', referral.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("age_band IS NULL OR age_band IN ('under_15', '15_17', '18_20', 'unknown')", name=op.f('ck_encounters_encounter_age_band_known')),
    sa.CheckConstraint("gender IS NULL OR gender IN ('girl', 'boy', 'other')", name=op.f('ck_encounters_encounter_gender_known')),
    sa.CheckConstraint("place IN ('sergels_torg', 'centralstationen', 'medborgarplatsen', 'meeting_place', 'other')", name=op.f('ck_encounters_encounter_place_known')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_encounters_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['youth_id'], ['youths.id'], name=op.f('fk_encounters_youth_id_youths')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encounters'))
    )
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_encounters_occurred_on'), ['occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounters_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_encounters_youth_id'), ['youth_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounters_youth_id'))
        batch_op.drop_index(batch_op.f('ix_encounters_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_encounters_occurred_on'))

    op.drop_table('encounters')
    with op.batch_alter_table('youths', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_youths_personnummer_index'))
        batch_op.drop_index(batch_op.f('ix_youths_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_youths_lma_number_index'))
        batch_op.drop_index(batch_op.f('ix_youths_dossier_number_index'))
        batch_op.drop_index(batch_op.f('ix_youths_data_key_id'))

    op.drop_table('youths')
