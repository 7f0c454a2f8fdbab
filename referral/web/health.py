"""Health check: can we reach the database? Says nothing else about the service."""

from __future__ import annotations

from referral.request_scope import get_database


def database_reachable() -> bool:
    return get_database().is_reachable()
