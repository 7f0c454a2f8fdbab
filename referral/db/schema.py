"""Every table, for migrations and schema checks: importing this registers all models."""

from __future__ import annotations

from referral.db import audit_log, data_keys, models, people, referrals
from referral.db.base import Base

metadata = Base.metadata

__all__ = ["audit_log", "data_keys", "metadata", "models", "people", "referrals"]
