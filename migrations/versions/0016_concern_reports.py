"""Concern reports (orosanmälan); the social emergency service (socialjouren) and its role

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:37:20.440739

A concern report reaches the placing district of a child the service knows, else the one
organisation marked as the city's social emergency service, whose staff hold the new role
`social_emergency`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base
import referral.db.encryption


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('social_worker', 'group_leader', 'link_worker', 'dpo', 'admin')"
ROLES_NOW = (
    "role IN ('social_worker', 'group_leader', 'link_worker', 'social_emergency', 'dpo', 'admin')"
)


def upgrade() -> None:
    op.create_table('concern_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('subject_kind', sa.String(length=20), nullable=False),
    sa.Column('child_id', sa.String(length=36), nullable=True),
    sa.Column('referral_id', sa.String(length=36), nullable=True),
    sa.Column('reporter_organisation_id', sa.String(length=36), nullable=False),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('receiving_organisation_id', sa.String(length=36), nullable=False),
    sa.Column('routing', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('filed_at', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('acknowledge_by', referral.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', referral.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
    sa.Column('closed_at', referral.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('subject_name', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('subject_personnummer', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('approximate_age', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('place', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('subject_description', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('what_happened', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('seen_or_said', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('actions_taken', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('reporter_contact', referral.db.encryption.EncryptedText(), nullable=False),
    sa.Column('case_reference', referral.db.encryption.EncryptedText(), nullable=True),
    sa.Column('data_key_id', sa.String(length=36), nullable=True),
    sa.CheckConstraint("(subject_kind = 'known_child') = (child_id IS NOT NULL)", name=op.f('ck_concern_reports_known_child_named')),
    sa.CheckConstraint("status = 'open' OR acknowledged_at IS NOT NULL", name=op.f('ck_concern_reports_acknowledged_has_time')),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name=op.f('ck_concern_reports_concern_status_known')),
    sa.CheckConstraint("subject_kind IN ('known_child', 'described')", name=op.f('ck_concern_reports_concern_subject_known')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_concern_reports_child_id_children')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_keys.id'], name=op.f('fk_concern_reports_data_key_id_data_keys')),
    sa.ForeignKeyConstraint(['receiving_organisation_id'], ['organisations.id'], name=op.f('fk_concern_reports_receiving_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_concern_reports_referral_id_referrals')),
    sa.ForeignKeyConstraint(['reporter_organisation_id'], ['organisations.id'], name=op.f('fk_concern_reports_reporter_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concern_reports'))
    )
    with op.batch_alter_table('concern_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concern_reports_acknowledge_by'), ['acknowledge_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_concern_reports_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_concern_reports_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_concern_reports_receiving_organisation_id'), ['receiving_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_concern_reports_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_concern_reports_reporter_organisation_id'), ['reporter_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_concern_reports_status'), ['status'], unique=False)

    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_role_known'))
        batch_op.create_check_constraint('role_known', ROLES_NOW)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'social_emergency_service', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_check_constraint(
            'social_emergency_is_the_city', "NOT social_emergency_service OR kind = 'city'"
        )
        batch_op.create_index('ix_organisations_one_social_emergency_service', ['social_emergency_service'], unique=True, sqlite_where=sa.text('social_emergency_service'), postgresql_where=sa.text('social_emergency_service'))



def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_one_social_emergency_service', sqlite_where=sa.text('social_emergency_service'), postgresql_where=sa.text('social_emergency_service'))
        batch_op.drop_constraint(op.f('ck_organisations_social_emergency_is_the_city'))
        batch_op.drop_column('social_emergency_service')

    op.execute("DELETE FROM user_roles WHERE role = 'social_emergency'")
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_role_known'))
        batch_op.create_check_constraint('role_known', ROLES_BEFORE)

    with op.batch_alter_table('concern_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concern_reports_status'))
        batch_op.drop_index(batch_op.f('ix_concern_reports_reporter_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_concern_reports_referral_id'))
        batch_op.drop_index(batch_op.f('ix_concern_reports_receiving_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_concern_reports_data_key_id'))
        batch_op.drop_index(batch_op.f('ix_concern_reports_child_id'))
        batch_op.drop_index(batch_op.f('ix_concern_reports_acknowledge_by'))

    op.drop_table('concern_reports')
