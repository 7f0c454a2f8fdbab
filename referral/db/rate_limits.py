"""Rate-limit counters shared by every worker (Flask-Limiter's fixed windows, see
referral/web/limit_storage.py). A counter's key is a keyed digest, never the client's address."""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    key_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    # Seconds since the epoch, as Flask-Limiter reckons a window's end.
    expires_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_rate_limit_counters_expires_at", "expires_at"),)
