"""Every table, for migrations and schema checks: importing this registers all models."""

from __future__ import annotations

from referral.db import (
    activity,
    audit_log,
    complaints,
    concern,
    data_keys,
    emergency,
    groups,
    identity,
    interest,
    models,
    nights,
    notifications,
    outreach,
    people,
    rate_limits,
    referrals,
    retention,
    returned,
)
from referral.db.base import Base

metadata = Base.metadata

__all__ = [
    "activity",
    "audit_log",
    "complaints",
    "concern",
    "data_keys",
    "emergency",
    "groups",
    "identity",
    "interest",
    "metadata",
    "models",
    "nights",
    "notifications",
    "outreach",
    "people",
    "rate_limits",
    "referrals",
    "retention",
    "returned",
]
