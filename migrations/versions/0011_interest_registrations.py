"""interest registrations (intresseanmälan) from family homes; notices about them

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 20:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base
import referral.db.encryption


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interest_registrations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('district_id', sa.String(length=36), nullable=False),
    sa.Column('child_name', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('personnummer', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('personnummer_index', sa.Integer(), nullable=False),
    sa.Column('family_home_contact', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', referral.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('referral_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('data_key_id', sa.String(length=36), nullable=True),
    sa.CheckConstraint("status <> 'confirmed' OR referral_id IS NOT NULL", name=op.f('ck_interest_registrations_confirmed_has_referral')),
    sa.CheckConstraint("status IN ('received', 'confirmed', 'declined')", name=op.f('ck_interest_registrations_status_known')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_interest_registrations_data_key_id_data_keys')),
    sa.ForeignKeyConstraint(['district_id'], ['organisations.id'], name=op.f('fk_interest_registrations_district_id_organisations')),
    sa.ForeignKeyConstraint(['partner_id'], ['organisations.id'], name=op.f('fk_interest_registrations_partner_id_organisations')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_interest_registrations_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_registrations'))
    )
    with op.batch_alter_table('interest_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interest_registrations_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_registrations_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_registrations_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_registrations_personnummer_index'), ['personnummer_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_registrations_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_registrations_status'), ['status'], unique=False)

    # A notice is now about a referral or an interest registration, exactly one of them.
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interest_id', sa.String(length=36), nullable=True))
        batch_op.alter_column('referral_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_notifications_interest_id'), ['interest_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notifications_interest_id_interest_registrations'), 'interest_registrations', ['interest_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_notifications_about_one_record'), '(referral_id IS NULL) <> (interest_id IS NULL)')


def downgrade() -> None:
    # Notices about registrations cannot survive the registrations (nor a NOT NULL referral).
    op.execute("DELETE FROM notifications WHERE interest_id IS NOT NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notifications_about_one_record'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_notifications_interest_id_interest_registrations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notifications_interest_id'))
        batch_op.alter_column('referral_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=False)
        batch_op.drop_column('interest_id')

    with op.batch_alter_table('interest_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interest_registrations_status'))
        batch_op.drop_index(batch_op.f('ix_interest_registrations_referral_id'))
        batch_op.drop_index(batch_op.f('ix_interest_registrations_personnummer_index'))
        batch_op.drop_index(batch_op.f('ix_interest_registrations_partner_id'))
        batch_op.drop_index(batch_op.f('ix_interest_registrations_district_id'))
        batch_op.drop_index(batch_op.f('ix_interest_registrations_data_key_id'))

    op.drop_table('interest_registrations')
