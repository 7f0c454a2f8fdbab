"""Emergency access grants ("break the glass"): a social worker's time-limited right to read
one child's record outside their own district, given with a reason.

The reason may describe the case, so it is sealed under the child's district key like the
rest of the district's record of the child (and is gone when that key is shredded). Who, which
child and when stay in clear: they are what the DPO reviews and what the policy needs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from referral.db.base import Base, UtcDateTime, id_param, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.people import district_holder
from referral.scopes import KeyScope


class EmergencyGrant(EncryptedRecord, Base):
    __tablename__ = "emergency_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), index=True)
    # The child's district (whose key seals the reason), not the social worker's.
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    _reason: Mapped[FieldValue] = mapped_column("reason", EncryptedText())
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())

    reason = personal("_reason")

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.child_id, holder=district_holder(self.district_id))

    def live_at(self, now: datetime) -> bool:
        return self.granted_at <= now < self.expires_at


_NOW = bindparam("now", type_=UtcDateTime())
# Built once: every request of a social worker runs it (the session's live grants), and
# building a statement anew cost about as much as running this one.
_LIVE_GRANT_CHILDREN = select(EmergencyGrant.child_id).where(
    EmergencyGrant.user_id == id_param("user_id"),
    EmergencyGrant.granted_at <= _NOW,
    EmergencyGrant.expires_at > _NOW,
)


def live_grant_children(db: Session, user_id: str, now: datetime) -> frozenset[str]:
    """The children `user_id` holds a live grant for at `now`: what the request's actor may
    read through emergency access. An expired grant is simply no longer found."""
    return frozenset(db.scalars(_LIVE_GRANT_CHILDREN, {"user_id": user_id, "now": now}))


def live_grant_until(db: Session, user_id: str, child_id: str, now: datetime) -> datetime | None:
    """When the user's emergency access to `child_id` ends (the latest live grant), or None."""
    return db.scalar(
        select(EmergencyGrant.expires_at)
        .where(
            EmergencyGrant.user_id == user_id,
            EmergencyGrant.child_id == child_id,
            EmergencyGrant.granted_at <= now,
            EmergencyGrant.expires_at > now,
        )
        .order_by(EmergencyGrant.expires_at.desc())
        .limit(1)
    )
