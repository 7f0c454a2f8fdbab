"""Sign-in through the city's identity provider, and API clients for the city's systems

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 13:00:00

A staff account linked to its provider subject (by a one-time invitation), and the clients
the districts' case systems call the API with. Tokens are stored as SHA-256 hashes only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("linked_at", referral.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_identity_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
        sa.UniqueConstraint("provider", "subject", name=op.f("uq_identity_links_provider")),
    )
    op.create_index(op.f("ix_identity_links_user_id"), "identity_links", ["user_id"])
    op.create_table(
        "sign_in_invitations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", referral.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", referral.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", referral.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sign_in_invitations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_in_invitations_token_hash")),
    )
    op.create_index(op.f("ix_sign_in_invitations_user_id"), "sign_in_invitations", ["user_id"])
    op.create_table(
        "api_clients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("scopes", sa.String(length=2000), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", referral.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", referral.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", referral.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", referral.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_clients_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_clients_token_hash")),
    )
    op.create_index(op.f("ix_api_clients_organisation_id"), "api_clients", ["organisation_id"])
    op.create_index(op.f("ix_api_clients_token_prefix"), "api_clients", ["token_prefix"])


def downgrade() -> None:
    op.drop_index(op.f("ix_api_clients_token_prefix"), table_name="api_clients")
    op.drop_index(op.f("ix_api_clients_organisation_id"), table_name="api_clients")
    op.drop_table("api_clients")
    op.drop_index(op.f("ix_sign_in_invitations_user_id"), table_name="sign_in_invitations")
    op.drop_table("sign_in_invitations")
    op.drop_index(op.f("ix_identity_links_user_id"), table_name="identity_links")
    op.drop_table("identity_links")
