"""Health check: can we reach the database? Says nothing else about the service."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from referral.db.engine import READ_ONLY
from referral.request_scope import get_database

log = logging.getLogger(__name__)


def database_reachable() -> bool:
    try:
        with get_database().engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("health check: database unreachable")
        return False
    return True
