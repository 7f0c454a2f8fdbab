"""The people the service protects, as the district records them and as a partner's file
holds them. Every personal field is encrypted (referral.db.encryption)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.scopes import KeyScope


def district_holder(district_id: str) -> str:
    return f"district:{district_id}"


def partner_file_holder(file_id: str) -> str:
    return f"partner-file:{file_id}"


class Child(EncryptedRecord, Base):
    """The district's record of a child: kept under the district's own retention rules."""

    __tablename__ = "children"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    _personnummer: Mapped[FieldValue] = mapped_column("personnummer", EncryptedText())
    # Truncated HMAC of the personnummer: narrows a look-up to a few candidates, never one.
    personnummer_index: Mapped[int] = mapped_column(Integer, index=True)
    _name: Mapped[FieldValue] = mapped_column("name", EncryptedText())
    # Placement basis (SoL or LVU) and, under LVU, which decision and who decided: facts about
    # the child, so sealed like the rest; `placement_noted_by` is the social worker's user id.
    _placement_basis: Mapped[FieldValue | None] = mapped_column("placement_basis", EncryptedText())
    _lvu_decision: Mapped[FieldValue | None] = mapped_column("lvu_decision", EncryptedText())
    _lvu_decided_by: Mapped[FieldValue | None] = mapped_column("lvu_decided_by", EncryptedText())
    # The date of the LVU decision, as an ISO date: sealed, since it tells of compulsory care.
    _lvu_decided_on: Mapped[FieldValue | None] = mapped_column("lvu_decided_on", EncryptedText())
    # The child's own views (Article 12 of the Convention on the Rights of the Child): noted for
    # every child, whatever the age; from 15 under SoL the child also decides on consent.
    _child_views: Mapped[FieldValue | None] = mapped_column("child_views", EncryptedText())
    placement_noted_by: Mapped[str | None] = mapped_column(String(64))
    _gender: Mapped[FieldValue | None] = mapped_column("gender", EncryptedText())
    # The family home the child lives in: where the partner's letters and visits go.
    _family_home_name: Mapped[FieldValue | None] = mapped_column(
        "family_home_name", EncryptedText()
    )
    _family_home_address: Mapped[FieldValue | None] = mapped_column(
        "family_home_address", EncryptedText()
    )
    _family_home_phone: Mapped[FieldValue | None] = mapped_column(
        "family_home_phone", EncryptedText()
    )
    # Under LVU: the social worker's documented decision, per data category, on what the
    # partner may see (JSON: category -> shared, by whom, on which day). Sealed, because it
    # tells of compulsory care.
    _lvu_sharing: Mapped[FieldValue | None] = mapped_column("lvu_sharing", EncryptedText())
    # A child placed by another municipality takes a free place for a fee (domain.md §2).
    # Sealed like the rest: tied to one child, it says where the child comes from.
    _paying_municipality: Mapped[FieldValue | None] = mapped_column(
        "paying_municipality", EncryptedText()
    )
    # The social worker whose "my work" list the child is on; any colleague of the district
    # may still open the record.
    responsible_worker_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id"), index=True, default=None
    )
    # The district's own reference in its case system: sealed, since it names a person's case.
    _case_number: Mapped[FieldValue | None] = mapped_column("case_number", EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    personnummer = personal("_personnummer", index="personnummer_index")
    name = personal("_name")
    gender = personal("_gender")
    family_home_name = personal("_family_home_name")
    family_home_address = personal("_family_home_address")
    family_home_phone = personal("_family_home_phone")
    placement_basis = personal("_placement_basis")
    lvu_decision = personal("_lvu_decision")
    lvu_decided_by = personal("_lvu_decided_by")
    lvu_decided_on = personal("_lvu_decided_on")
    child_views = personal("_child_views")
    lvu_sharing = personal("_lvu_sharing")
    paying_municipality = personal("_paying_municipality")
    case_number = personal("_case_number")

    @property
    def organisation_id(self) -> str:
        return self.district_id

    @property
    def about_child_id(self) -> str:
        """The child this record is about (for the policy): the child itself."""
        return self.id

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=district_holder(self.district_id))


class PartnerFile(EncryptedRecord, Base):
    """A partner's own documentation about one child's participation (one referral). Purged
    (its key shredded, its rows deleted) after completion, without touching the district's
    record (referral.services.gallring)."""

    __tablename__ = "partner_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The participation this file documents: one file per referral, purged with it.
    referral_id: Mapped[str | None] = mapped_column(
        ForeignKey("referrals.id"), index=True, unique=True
    )
    _notes: Mapped[FieldValue | None] = mapped_column("notes", EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    notes = personal("_notes")

    @property
    def organisation_id(self) -> str:
        return self.partner_id

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.child_id, holder=partner_file_holder(self.id))


class PartnerNote(EncryptedRecord, Base):
    """One entry a group leader wrote in a partner's file (what the partner documents about
    the child's participation). Sealed under the file's key, so the file's purge takes it."""

    __tablename__ = "partner_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    file_id: Mapped[str] = mapped_column(ForeignKey("partner_files.id"), index=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"))
    written_by: Mapped[str] = mapped_column(String(64))  # the group leader's user id
    written_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    _text: Mapped[FieldValue] = mapped_column("text", EncryptedText())

    text = personal("_text")

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.child_id, holder=partner_file_holder(self.file_id))


class Guardian(EncryptedRecord, Base):
    """A guardian (vårdnadshavare) of a child, kept in the district's record of the child."""

    __tablename__ = "guardians"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), index=True)
    _name: Mapped[FieldValue] = mapped_column("name", EncryptedText())
    _contact: Mapped[FieldValue | None] = mapped_column("contact", EncryptedText())
    # Whether this guardian's consent is required (gemensam vårdnad: two such guardians).
    has_custody: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    # The child's district: the guardian's details are part of its record of the child.
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))

    name = personal("_name")
    contact = personal("_contact")

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.child_id, holder=district_holder(self.district_id))

    @property
    def organisation_id(self) -> str:
        return self.district_id


class ConsentRecord(Base):
    """One decision by one party (a guardian, or the child from 15), as recorded by a social
    worker. Append-only: the latest record per party is that party's current decision."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), index=True)
    # Indexed: a district's lapsing consents are read by district (migration 0032).
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    party: Mapped[str] = mapped_column(String(36))  # a guardian id, or "child"
    decision: Mapped[str] = mapped_column(String(10))
    categories: Mapped[str] = mapped_column(String(200))  # comma-separated Category values
    decided_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)  # required: consent always ends
    method: Mapped[str] = mapped_column(String(10))  # written / oral
    description_version: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def organisation_id(self) -> str:
        return self.district_id
