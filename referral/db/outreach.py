"""Programme B: outreach to unaccompanied youths (domain.md §4; seeds 000, 001, 003).

A youth's record is held by the organisation whose worker met the youth (a partner, or the
city's youth outreach unit), under a data key of its own per youth (holder
"outreach:<organisation id>"). Identity is optional at first: an alias or a first name is
enough, and each identifier added later (personnummer or samordningsnummer, LMA-card number,
Migrationsverket's dossier number) is sealed and blind-indexed for the look-up that keeps one
youth in one record.

An encounter may be anonymous: then it has no identity field at all, only what the follow-up
counts (the day, the kind of place, the needs met, and optionally gender and an age band). A
later, reversible step links it to a youth who agrees.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.retention import Purgeable
from referral.scopes import KeyScope


class Situation(StrEnum):
    ASYLUM_PROCESS = "asylum_process"
    REJECTED = "rejected"
    NO_CONTACT = "no_contact_with_authorities"
    ABSCONDED = "absconded"  # avvikit
    MISSING = "missing"  # försvunnit


class Place(StrEnum):
    """Where outreach meets youths: the risk environments the seeds name, or a meeting place."""

    SERGELS_TORG = "sergels_torg"
    CENTRALSTATIONEN = "centralstationen"
    MEDBORGARPLATSEN = "medborgarplatsen"
    MEETING_PLACE = "meeting_place"  # the partner's own meeting place
    OTHER = "other"


class Need(StrEnum):
    """The interventions of the partnership (seed 001): what an encounter met."""

    BASIC_NEEDS = "basic_needs"
    MEETING_PLACE = "meeting_place"
    SUPPORTIVE_TALK = "supportive_talk"
    LEGAL_SOCIAL_ADVICE = "legal_social_advice"
    FAMILY_OR_RETURN_ADVICE = "family_or_return_advice"
    HEALTHCARE_REFERRAL = "healthcare_referral"
    YOUTH_CLINIC = "youth_clinic"


class AgeBand(StrEnum):
    """For counting anonymous encounters only: never an identity."""

    UNDER_15 = "under_15"
    FROM_15_TO_17 = "15_17"
    FROM_18_TO_20 = "18_20"
    UNKNOWN = "unknown"


def outreach_holder(organisation_id: str) -> str:
    return f"outreach:{organisation_id}"


class Youth(Purgeable, EncryptedRecord, Base):
    __tablename__ = "youths"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The organisation whose worker met the youth: whose record this is.
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Nullable only for the purge, which empties every sealed field (the service requires it).
    _alias: Mapped[FieldValue | None] = mapped_column("alias", EncryptedText())
    _personnummer: Mapped[FieldValue | None] = mapped_column("personnummer", EncryptedText())
    personnummer_index: Mapped[int | None] = mapped_column(Integer, index=True)
    _lma_number: Mapped[FieldValue | None] = mapped_column("lma_number", EncryptedText())
    lma_number_index: Mapped[int | None] = mapped_column(Integer, index=True)
    _dossier_number: Mapped[FieldValue | None] = mapped_column("dossier_number", EncryptedText())
    dossier_number_index: Mapped[int | None] = mapped_column(Integer, index=True)
    # The birth date as an ISO date (from the personnummer, or as the youth says), or only a
    # year: sealed, since with the rest it narrows down who the youth is.
    _birth_date: Mapped[FieldValue | None] = mapped_column("birth_date", EncryptedText())
    _birth_year: Mapped[FieldValue | None] = mapped_column("birth_year", EncryptedText())
    _gender: Mapped[FieldValue | None] = mapped_column("gender", EncryptedText())
    _country_of_origin: Mapped[FieldValue | None] = mapped_column(
        "country_of_origin", EncryptedText()
    )
    # Absconded or missing tells of a child at risk: sealed like the rest.
    _situation: Mapped[FieldValue | None] = mapped_column("situation", EncryptedText())
    # The responsible district, when known: where a found child is reported.
    district_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    registered_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    alias = personal("_alias")
    personnummer = personal("_personnummer", index="personnummer_index")
    lma_number = personal("_lma_number", index="lma_number_index", index_kind="lma_number")
    dossier_number = personal(
        "_dossier_number", index="dossier_number_index", index_kind="dossier_number"
    )
    birth_date = personal("_birth_date")
    birth_year = personal("_birth_year")
    gender = personal("_gender")
    country_of_origin = personal("_country_of_origin")
    situation = personal("_situation")

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=outreach_holder(self.organisation_id))


class Encounter(Base):
    """One meeting in outreach work. Anonymous while `youth_id` is empty: nothing here names
    anyone, so the row holds no sealed field at all."""

    __tablename__ = "encounters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    worker_id: Mapped[str] = mapped_column(String(64))  # the outreach worker's user id
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(30))
    needs: Mapped[str] = mapped_column(String(200))  # comma-separated Need values
    # For the follow-up counts only (girls are hard to reach: seed 000).
    gender: Mapped[str | None] = mapped_column(String(10))
    age_band: Mapped[str | None] = mapped_column(String(10))
    # Linked to a youth who agreed; the link is reversible (and audited).
    youth_id: Mapped[str | None] = mapped_column(ForeignKey("youths.id"), index=True)
    linked_by: Mapped[str | None] = mapped_column(String(64))
    linked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "place IN ('sergels_torg', 'centralstationen', 'medborgarplatsen', "
            "'meeting_place', 'other')",
            name="encounter_place_known",
        ),
        CheckConstraint(
            "age_band IS NULL OR age_band IN ('under_15', '15_17', '18_20', 'unknown')",
            name="encounter_age_band_known",
        ),
        CheckConstraint(
            "gender IS NULL OR gender IN ('girl', 'boy', 'other')", name="encounter_gender_known"
        ),
    )


class Authority(StrEnum):
    """Where a link case takes a youth (domain.md §4)."""

    DISTRICT_SOCIAL_SERVICES = "district_social_services"
    SOCIALJOUREN = "socialjouren"
    MIGRATIONSVERKET = "migrationsverket"
    POLICE = "police"
    HEALTHCARE = "healthcare"
    DENTAL_CARE = "dental_care"
    GOD_MAN = "god_man"
    PUBLIC_COUNSEL = "public_counsel"  # offentligt biträde
    YOUTH_CLINIC = "youth_clinic"


class LinkStepKind(StrEnum):
    """The ordered steps of a link case."""

    INITIATED = "initiated"
    CONTACT_MADE = "contact_made"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


class Outcome(StrEnum):
    BACK_IN_WELFARE = "back_in_welfare"  # back within the welfare system
    DECLINED = "declined"
    LOST_CONTACT = "lost_contact"
    OTHER = "other"


class LinkCase(EncryptedRecord, Base):
    """A link (länkning) of one youth to one authority, held by the outreach organisation."""

    __tablename__ = "link_cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    youth_id: Mapped[str] = mapped_column(ForeignKey("youths.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    authority: Mapped[str] = mapped_column(String(30))
    # The district, when the authority is a district's social services.
    district_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))  # the last step done
    # When the next step is due (none once closed): past it, the case shows as overdue.
    next_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    opened_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Why the youth is linked, in the worker's words: about the youth, so sealed.
    _purpose: Mapped[FieldValue | None] = mapped_column("purpose", EncryptedText())

    purpose = personal("_purpose")

    @property
    def district_organisation_id(self) -> str:
        """A hand-over to a district's social services is in that district's scope too (for
        its social workers; what they read of it is the service's question)."""
        return self.district_id or ""

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.youth_id, holder=outreach_holder(self.organisation_id))


class LinkStep(Base):
    """One step done on a link case: which, on which day, by whom."""

    __tablename__ = "link_steps"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("link_cases.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    done_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class YouthConsent(EncryptedRecord, Base):
    """A consent to disclose categories of a youth's data to one authority for one purpose,
    from one day to another: the youth's own (from 18), a god man's or a guardian's, or
    social services acting where the law requires (the reference sealed). Revocable."""

    __tablename__ = "youth_consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    youth_id: Mapped[str] = mapped_column(ForeignKey("youths.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    authority: Mapped[str] = mapped_column(String(30))
    categories: Mapped[str] = mapped_column(String(100))  # comma-separated YouthCategory
    given_by: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    _purpose: Mapped[FieldValue | None] = mapped_column("purpose", EncryptedText())
    # Under social services: which provision it acts on (e.g. "SoL 11 kap. 1 §").
    _legal_reference: Mapped[FieldValue | None] = mapped_column("legal_reference", EncryptedText())

    purpose = personal("_purpose")
    legal_reference = personal("_legal_reference")

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.youth_id, holder=outreach_holder(self.organisation_id))


class Disclosure(Base):
    """What a hand-over disclosed to the authority: one category, on one basis."""

    __tablename__ = "link_disclosures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("link_cases.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(30))  # a BasisKind
    consent_id: Mapped[str] = mapped_column(ForeignKey("youth_consents.id"))
    disclosed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))


class Finding(Base):
    """An absconded or missing youth found: when, where, by whom, which district was told,
    and (for a minor) the concern report that told it, whose acknowledgement ends the wait."""

    __tablename__ = "youth_findings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    youth_id: Mapped[str] = mapped_column(ForeignKey("youths.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    found_at: Mapped[datetime] = mapped_column(UtcDateTime())
    place: Mapped[str] = mapped_column(String(30))
    worker_id: Mapped[str] = mapped_column(String(64))
    district_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    concern_report_id: Mapped[str | None] = mapped_column(
        ForeignKey("concern_reports.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class YouthLink(Base):
    """Two records the organisation judged to be one youth: linked, not merged, so the link
    can be undone. While linked, a hand-over needs a basis in both records (the more
    restrictive consent wins)."""

    __tablename__ = "youth_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The pair in a fixed order (first_id < second_id), so a pair has one row.
    first_id: Mapped[str] = mapped_column(ForeignKey("youths.id"), index=True)
    second_id: Mapped[str] = mapped_column(ForeignKey("youths.id"), index=True)
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    unlinked_by: Mapped[str | None] = mapped_column(String(64))
    unlinked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (CheckConstraint("first_id < second_id", name="youth_link_ordered"),)


class DismissedPair(Base):
    """A pair the organisation said is not one youth (or unlinked): never proposed again."""

    __tablename__ = "youth_pair_dismissals"

    first_id: Mapped[str] = mapped_column(ForeignKey("youths.id"), primary_key=True)
    second_id: Mapped[str] = mapped_column(ForeignKey("youths.id"), primary_key=True)
    dismissed_by: Mapped[str] = mapped_column(String(64))
    dismissed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
