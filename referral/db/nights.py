"""Programme C: night places for EU citizens in vulnerability (domain.md §7, seed 002).

A person is pseudonymous: the card number issued at the first registration is all the desk
needs; alias, birth year, gender and country of origin are optional and sealed under a data
key of the person's own, held by the partnership's registration holder ("nights"). A
registration day holds the morning's sealed draw seed and its published commitment; a run
stores the allocation's inputs and result sealed under a key of the run's own (they name card
numbers and genders), beside the figures that statistics keep. A night place is one person's
place in one shelter for one night, and the unique (person, night) pair is what keeps anyone
from holding two places on one night, across all shelters.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.retention import Purgeable
from referral.scopes import KeyScope

# The partnership's registration holder: one for the whole partnership (seed 002 §2.2), since
# a person registers at whichever desk is open and sleeps at whichever shelter has a place.
NIGHTS_HOLDER = "nights"
# The morning's draw seed, sealed until the allocation reveals it; and a run's stored inputs.
DRAW_HOLDER = "nights:draw"
RUN_HOLDER = "nights:run"


class OverrideKind(StrEnum):
    """The only grounds to rank someone first (seed 002 §2.6.1: danger to life, children)."""

    DANGER_TO_LIFE = "danger_to_life"
    CHILDREN_INVOLVED = "children_involved"


class PlaceStatus(StrEnum):
    ALLOCATED = "allocated"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"  # recorded, and counts as a night not had


class _PartnershipHeld:
    """Marks a record as the partnership's (referral.policy.HeldByNightPartnership)."""

    @property
    def night_partnership_holder(self) -> str:
        return NIGHTS_HOLDER


class NightPerson(_PartnershipHeld, Purgeable, EncryptedRecord, Base):
    __tablename__ = "night_people"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The card the person keeps: a pseudonym, printed with a QR code. Emptied by the purge.
    card_number: Mapped[str | None] = mapped_column(String(8), unique=True)
    _alias: Mapped[FieldValue | None] = mapped_column("alias", EncryptedText())
    _birth_year: Mapped[FieldValue | None] = mapped_column("birth_year", EncryptedText())
    # "woman" or "man" (places may be reserved for either, seed §2.9), or another answer.
    _gender: Mapped[FieldValue | None] = mapped_column("gender", EncryptedText())
    _country_of_origin: Mapped[FieldValue | None] = mapped_column(
        "country_of_origin", EncryptedText()
    )
    # Keyed hash of alias + birth year + country, for the hint "this may be a card already
    # issued" before a second card is issued (crypto.keyword_index; never reversible).
    likeness_index: Mapped[int | None] = mapped_column(Integer, index=True)
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    alias = personal("_alias")
    birth_year = personal("_birth_year")
    gender = personal("_gender")
    country_of_origin = personal("_country_of_origin")

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=NIGHTS_HOLDER)


class Shelter(Base):
    """A partner's (or the city's) night shelter: its usual places per night, of which some
    may be reserved for women or for men, between its opening and closing dates."""

    __tablename__ = "night_shelters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    places: Mapped[int] = mapped_column(Integer)
    reserved_for_women: Mapped[int] = mapped_column(Integer, default=0)
    reserved_for_men: Mapped[int] = mapped_column(Integer, default=0)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "places >= 0 AND reserved_for_women >= 0 AND reserved_for_men >= 0 "
            "AND reserved_for_women + reserved_for_men <= places",
            name="shelter_places_fit",
        ),
    )


class CapacityChange(Base):
    """The coordinator's change of one shelter's places for one night (extra places in cold
    weather, fewer when staff are short), with the reason. The latest change for a night
    stands; earlier ones stay as the night's history."""

    __tablename__ = "night_capacity_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    shelter_id: Mapped[str] = mapped_column(ForeignKey("night_shelters.id"), index=True)
    night: Mapped[date] = mapped_column(Date, index=True)
    places: Mapped[int] = mapped_column(Integer)
    reserved_for_women: Mapped[int] = mapped_column(Integer, default=0)
    reserved_for_men: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(300))  # about the night, never a person
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "places >= 0 AND reserved_for_women >= 0 AND reserved_for_men >= 0 "
            "AND reserved_for_women + reserved_for_men <= places",
            name="capacity_places_fit",
        ),
    )


class RegistrationDay(EncryptedRecord, Base):
    """One morning's window: the seed of its draw, drawn when the day's first page or
    registration asks for it (before anyone has registered) and sealed until the allocation,
    and the commitment (SHA-256 of the seed) shown from then on."""

    __tablename__ = "night_days"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    day: Mapped[date] = mapped_column(Date, unique=True)
    commitment: Mapped[str] = mapped_column(String(64))
    _seed: Mapped[FieldValue | None] = mapped_column("seed", EncryptedText())
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Set by the allocation: the seed is public from then on, and registration is closed.
    revealed_seed: Mapped[str | None] = mapped_column(String(64))
    allocated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    seed = personal("_seed")  # hex; sealed so that nobody can steer the draw beforehand

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=DRAW_HOLDER)


class NightRegistration(_PartnershipHeld, EncryptedRecord, Base):
    """A person at the desk on one morning. An override's grounds and what staff wrote about
    them are sealed under the person's key."""

    __tablename__ = "night_registrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    day_id: Mapped[str] = mapped_column(ForeignKey("night_days.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("night_people.id"), index=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The grounds (danger to life, children involved) say much about a person: sealed too.
    _override_kind: Mapped[FieldValue | None] = mapped_column("override_kind", EncryptedText())
    _override_reason: Mapped[FieldValue | None] = mapped_column("override_reason", EncryptedText())
    override_by: Mapped[str | None] = mapped_column(String(64))
    # The report filed to socialjouren when children are involved.
    concern_report_id: Mapped[str | None] = mapped_column(ForeignKey("concern_reports.id"))

    override_kind = personal("_override_kind")
    override_reason = personal("_override_reason")

    __table_args__ = (UniqueConstraint("day_id", "person_id", name="one_registration_a_morning"),)

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.person_id, holder=NIGHTS_HOLDER)


class AllocationRun(EncryptedRecord, Base):
    """One allocation, stored once and never changed: the algorithm's version, the digest of
    its canonical inputs, the seed and its commitment, and the inputs and result themselves
    (sealed: they name card numbers and genders). The counts are what statistics keep after
    the inputs are purged."""

    __tablename__ = "night_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    day_id: Mapped[str] = mapped_column(ForeignKey("night_days.id"), unique=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    algorithm_version: Mapped[str] = mapped_column(String(40))
    inputs_digest: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(64))
    seed_commitment: Mapped[str] = mapped_column(String(64))
    _inputs: Mapped[FieldValue | None] = mapped_column("inputs", EncryptedText())
    _result: Mapped[FieldValue | None] = mapped_column("result", EncryptedText())
    registered: Mapped[int] = mapped_column(Integer)
    placed: Mapped[int] = mapped_column(Integer)
    turned_away: Mapped[int] = mapped_column(Integer)
    ran_by: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    inputs = personal("_inputs")  # allocation.canonical_json
    result = personal("_result")

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=RUN_HOLDER)


class NightPlace(_PartnershipHeld, Base):
    """One person's place in one shelter for one night. After the person's purge the row
    stays without the person (nights given per shelter and night are statistics)."""

    __tablename__ = "night_places"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("night_runs.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("night_people.id"), index=True)
    shelter_id: Mapped[str] = mapped_column(ForeignKey("night_shelters.id"), index=True)
    night: Mapped[date] = mapped_column(Date, index=True)
    place_kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default=PlaceStatus.ALLOCATED.value)
    from_reserve: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        # The database constraint: never two places for one person on one night.
        UniqueConstraint("person_id", "night", name="one_place_a_night"),
        CheckConstraint(
            "place_kind IN ('women', 'men', 'unreserved')", name="night_place_kind_known"
        ),
        CheckConstraint(
            "status IN ('allocated', 'checked_in', 'no_show')", name="night_place_status_known"
        ),
    )


class Exclusion(_PartnershipHeld, EncryptedRecord, Base):
    """A shelter's exclusion of a person for a time, with a reason (sealed under the person's
    key), an expiry, and the person's right to ask for a review."""

    __tablename__ = "night_exclusions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    shelter_id: Mapped[str] = mapped_column(ForeignKey("night_shelters.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("night_people.id"), index=True)
    _reason: Mapped[FieldValue | None] = mapped_column("reason", EncryptedText())
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    review_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    reason = personal("_reason")

    __table_args__ = (CheckConstraint("starts_on <= expires_on", name="exclusion_dates_order"),)

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.person_id, holder=NIGHTS_HOLDER)
