"""Programme B, outreach: the link worker's youths and encounters (domain.md §4).

Many youths distrust authorities and want no registration, so an encounter may be recorded
without identity: it then holds only what the follow-up counts. A youth's record starts with
an alias and gains identifiers only as the youth agrees; before a record is made, the
organisation's records are searched by every identifier given (the blind index narrows,
decryption confirms), so one youth has one record. Anonymous encounters are linked to the
youth's record later, when the youth agrees; the link can be undone. Every read of a youth
and every change is in the access log under the youth's key scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from audit.actions import Action
from audit.record import Entry, record, record_many
from crypto import constant_time_equal
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.encryption import session_cipher
from referral.db.models import Organisation
from referral.db.outreach import AgeBand, Encounter, Need, Place, Situation, Youth
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotPermitted
from referral.i18n import _
from referral.policy import Permission, organisation_scope, require
from referral.roles import OrganisationKind
from referral.rules import (
    MAX_YOUTH_AGE,
    age_on,
    could_be_programme_b_age,
    is_programme_b_age,
    youngest_age,
)
from referral.services import children, organisations
from referral.services.loading import get_for

MAX_ALIAS = 120
MAX_COUNTRY = 80
GENDERS = frozenset({"girl", "boy", "other"})
# ASCII digits only, never \d: it also matches other scripts' digits (١٢٣٤), which the blind
# index refuses, and no card or letter is written in them.
# Migrationsverket's dossier number: eight digits (written 1234-5678 or 12345678).
_DOSSIER = re.compile(r"[0-9]{8}")
# The LMA card's number: eight to twelve digits, however it is grouped on the card.
_LMA = re.compile(r"[0-9]{8,12}")
_ASCII_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class NewYouth:
    alias: str
    personnummer: str | None = None  # or samordningsnummer
    lma_number: str | None = None
    dossier_number: str | None = None
    birth_year: int | None = None  # when only the year is known
    gender: str | None = None
    country_of_origin: str | None = None
    situation: str | None = None
    district_id: str | None = None  # the responsible district, when known


@dataclass(frozen=True)
class RegisteredYouth:
    id: str


@dataclass(frozen=True)
class YouthMatch:
    """A look-up's match: enough to open the record, not the identifier."""

    id: str
    alias: str


@dataclass(frozen=True)
class YouthSummary:
    id: str
    alias: str
    age: int | None
    situation: str | None
    encounters: int


@dataclass(frozen=True)
class EncounterView:
    """An encounter as the organisation's workers see it: nothing personal (a linked one
    names the youth's record by id only)."""

    id: str
    occurred_on: date
    place: str
    needs: tuple[str, ...]
    gender: str | None
    age_band: str | None
    youth_id: str | None
    linked_at: datetime | None


@dataclass(frozen=True)
class YouthRecord:
    id: str
    alias: str
    personnummer: str | None
    lma_number: str | None
    dossier_number: str | None
    birth_date: str | None
    birth_year: str | None
    age: int | None
    gender: str | None
    country_of_origin: str | None
    situation: str | None
    district_id: str | None
    district_name: str | None
    encounters: tuple[EncounterView, ...]


@dataclass(frozen=True)
class NewEncounter:
    occurred_on: date
    place: str
    needs: tuple[str, ...] = ()
    gender: str | None = None
    age_band: str | None = None
    youth_id: str | None = None  # empty: anonymous


# --- identifiers ---------------------------------------------------------------------------


def _digits(raw: str) -> str:
    return re.sub(r"[\s+-]", "", raw)


def _identifier(raw: str | None, pattern: re.Pattern[str], field: str) -> str | None:
    if raw is None or not raw.strip():
        return None
    digits = _digits(raw)
    if not pattern.fullmatch(digits):
        message = {
            "dossier_number": _("A dossier number has eight digits."),
            "lma_number": _("An LMA-card number has eight to twelve digits."),
        }[field]
        raise InvalidInput(message, field=field)
    return digits


def _born(personnummer: str) -> date:
    # A samordningsnummer has 60 added to the day.
    return date(int(personnummer[:4]), int(personnummer[4:6]), int(personnummer[6:8]) % 60)


def _too_old() -> str:
    return str(
        _("Programme B meets youths up to and including %(n)s years of age.", n=MAX_YOUTH_AGE)
    )


@dataclass(frozen=True)
class _Identity:
    personnummer: str | None
    lma_number: str | None
    dossier_number: str | None
    birth_date: date | None


def _identity(new: NewYouth, today: date) -> _Identity:
    personnummer = (
        children.plausible_personnummer(new.personnummer, today)
        if new.personnummer and new.personnummer.strip()
        else None
    )
    born = _born(personnummer) if personnummer else None
    if born is not None and not is_programme_b_age(born, today):
        raise InvalidInput(_too_old(), field="personnummer")
    if new.birth_year is not None:
        if not could_be_programme_b_age(new.birth_year, today):
            raise InvalidInput(_too_old(), field="birth_year")
        if born is not None and born.year != new.birth_year:
            raise InvalidInput(_("The birth year is not the personnummer's."), field="birth_year")
    return _Identity(
        personnummer,
        _identifier(new.lma_number, _LMA, "lma_number"),
        _identifier(new.dossier_number, _DOSSIER, "dossier_number"),
        born,
    )


_INDEXED = {
    "personnummer": Youth.personnummer_index,
    "lma_number": Youth.lma_number_index,
    "dossier_number": Youth.dossier_number_index,
}


def _holding(uow: UnitOfWork, organisation_id: str, field: str, value: str) -> list[Youth]:
    """The organisation's records with this identifier: the index narrows, decryption
    confirms each candidate in constant time."""
    index = session_cipher(uow.session).index_of(getattr(Youth, field), value)
    candidates = uow.session.scalars(
        select(Youth).where(Youth.organisation_id == organisation_id, _INDEXED[field] == index)
    )
    return [y for y in candidates if constant_time_equal(getattr(y, field) or "", value)]


def _own_organisation(uow: UnitOfWork, actor: Actor) -> Organisation:
    organisation = (
        uow.session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    )
    if organisation is None or organisation.kind == OrganisationKind.DISTRICT.value:
        raise NotPermitted(_("Outreach records are held by a partner or the city's outreach."))
    return organisation


def _choice(value: str | None, allowed: Iterable[str], field: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in set(allowed):
        raise InvalidInput(
            _("Choose one of: %(values)s.", values=", ".join(sorted(allowed))), field=field
        )
    return value


def _text(value: str | None, field: str, most: int, required: bool = False) -> str | None:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise InvalidInput(_("This field is required."), field=field)
    if len(cleaned) > most:
        raise InvalidInput(_("At most %(n)s characters.", n=most), field=field)
    return cleaned or None


# --- youths --------------------------------------------------------------------------------


def register_youth(uow: UnitOfWork, actor: Actor, new: NewYouth, today: date) -> RegisteredYouth:
    """Record a youth the organisation met, once: an identifier its records already hold is
    a conflict naming that record (look it up, or link the encounter to it, instead)."""
    require(actor, Permission.YOUTH_REGISTER)
    organisation = _own_organisation(uow, actor)
    alias = _text(new.alias, "alias", MAX_ALIAS, required=True)
    identity = _identity(new, today)
    gender = _choice(new.gender, GENDERS, "gender")
    situation = _choice(new.situation, (s.value for s in Situation), "situation")
    country = _text(new.country_of_origin, "country_of_origin", MAX_COUNTRY)
    district_id = (
        organisations.responsible_district(uow, new.district_id).id if new.district_id else None
    )
    # One writer at a time per organisation, from the duplicate check to the commit (the
    # blind index is too coarse for a unique index), as for a district's children.
    uow.session.execute(
        select(Organisation.id).where(Organisation.id == organisation.id).with_for_update()
    )
    for field in ("personnummer", "lma_number", "dossier_number"):
        value = getattr(identity, field)
        if value and (existing := _holding(uow, organisation.id, field, value)):
            raise Conflict(
                _("Your organisation already has this youth: record %(id)s.", id=existing[0].id),
                field=field,
            )
    youth = Youth(
        organisation_id=organisation.id,
        alias=alias,
        personnummer=identity.personnummer,
        lma_number=identity.lma_number,
        dossier_number=identity.dossier_number,
        birth_date=identity.birth_date.isoformat() if identity.birth_date else None,
        birth_year=str(new.birth_year) if new.birth_year is not None else None,
        gender=gender,
        country_of_origin=country,
        situation=situation,
        district_id=district_id,
        registered_by=actor.user_id,
    )
    require(actor, Permission.YOUTH_REGISTER, youth)
    uow.session.add(youth)
    uow.session.flush()
    _record(uow, actor, Action.YOUTH_REGISTER, youth)
    uow.commit()
    return RegisteredYouth(youth.id)


def find_youths(uow: UnitOfWork, actor: Actor, raw: str) -> list[YouthMatch]:
    """The organisation's records holding this identifier (a personnummer or
    samordningsnummer, an LMA-card or a dossier number), each match logged."""
    require(actor, Permission.YOUTH_READ)
    organisation = _own_organisation(uow, actor)
    digits = _digits(raw or "")
    if not _ASCII_DIGITS.fullmatch(digits):
        raise InvalidInput(_("Type an identifier: digits only."), field="identifier")
    candidates: dict[str, Youth] = {}
    # Only the kinds these digits can be: no record holds a shorter or longer number, and the
    # blind index is computed for a well-formed one only.
    for field, pattern in (("lma_number", _LMA), ("dossier_number", _DOSSIER)):
        if not pattern.fullmatch(digits):
            continue
        for youth in _holding(uow, organisation.id, field, digits):
            candidates[youth.id] = youth
    try:
        personnummer = children.valid_personnummer(raw)
    except InvalidInput:
        personnummer = None
    if personnummer:
        for youth in _holding(uow, organisation.id, "personnummer", personnummer):
            candidates[youth.id] = youth
    found = sorted(candidates.values(), key=lambda y: (y.created_at, y.id))
    for youth in found:
        _record(uow, actor, Action.YOUTH_SEARCH, youth)
    matches = [YouthMatch(y.id, y.alias) for y in found]
    uow.commit()
    return matches


def _age(youth: Youth, today: date) -> int | None:
    if youth.birth_date:
        return age_on(date.fromisoformat(youth.birth_date), today)
    return None


def youth_age(youth: Youth, day: date) -> int:
    """The age the law is applied with: known from the birth date; with only a birth year,
    as young as the year allows; with neither, 0 (a minor: the stricter reading, so that no
    hand-over rests on a consent that might not count)."""
    if youth.birth_date:
        return age_on(date.fromisoformat(youth.birth_date), day)
    if youth.birth_year:
        return youngest_age(int(youth.birth_year), day)
    return 0


def youths(uow: UnitOfWork, actor: Actor, today: date) -> list[YouthSummary]:
    """The organisation's youths, newest first; each one listed is logged."""
    require(actor, Permission.YOUTH_READ)
    query = (
        select(Youth).where(Youth.purged_at.is_(None)).order_by(Youth.created_at.desc(), Youth.id)
    )
    scope = organisation_scope(actor)
    if scope is not None:
        query = query.where(Youth.organisation_id == scope)
    found = list(uow.session.scalars(query))
    counts: dict[str, int] = {}
    if found:
        counts = {
            youth_id: int(n)
            for youth_id, n in uow.session.execute(
                select(Encounter.youth_id, func.count())
                .where(Encounter.youth_id.in_([y.id for y in found]))
                .group_by(Encounter.youth_id)
            )
            if youth_id is not None
        }
    # One entry per youth listed, in one write; every youth's key unwrapped at once.
    record_many(uow.session, actor, [_entry(Action.YOUTH_LIST, youth) for youth in found])
    session_cipher(uow.session).keys.load_many(uow.session, (y.data_key_id for y in found))
    summaries = [
        YouthSummary(y.id, y.alias, _age(y, today), y.situation, counts.get(y.id, 0)) for y in found
    ]
    uow.commit()
    return summaries


def _encounter_view(encounter: Encounter) -> EncounterView:
    return EncounterView(
        id=encounter.id,
        occurred_on=encounter.occurred_on,
        place=encounter.place,
        needs=tuple(n for n in encounter.needs.split(",") if n),
        gender=encounter.gender,
        age_band=encounter.age_band,
        youth_id=encounter.youth_id,
        linked_at=encounter.linked_at,
    )


def read_youth(uow: UnitOfWork, actor: Actor, youth_id: str, today: date) -> YouthRecord:
    """One youth's record, for the organisation that holds it (404 for any other)."""
    require(actor, Permission.YOUTH_READ)
    youth = get_for(uow, actor, Permission.YOUTH_READ, Youth, youth_id, field="youth")
    _record(uow, actor, Action.YOUTH_READ, youth)
    uow.commit()  # on record before anything is shown
    encounters = uow.session.scalars(
        select(Encounter)
        .where(Encounter.youth_id == youth.id)
        .order_by(Encounter.occurred_on.desc(), Encounter.id)
    )
    district = uow.session.get(Organisation, youth.district_id) if youth.district_id else None
    return YouthRecord(
        id=youth.id,
        alias=youth.alias,
        personnummer=youth.personnummer,
        lma_number=youth.lma_number,
        dossier_number=youth.dossier_number,
        birth_date=youth.birth_date,
        birth_year=youth.birth_year,
        age=_age(youth, today),
        gender=youth.gender,
        country_of_origin=youth.country_of_origin,
        situation=youth.situation,
        district_id=youth.district_id,
        district_name=district.name if district else None,
        encounters=tuple(_encounter_view(e) for e in encounters),
    )


# --- encounters ----------------------------------------------------------------------------


def record_encounter(
    uow: UnitOfWork, actor: Actor, new: NewEncounter, today: date
) -> EncounterView:
    """Record an encounter; without a youth it is anonymous and holds no identity."""
    require(actor, Permission.ENCOUNTER_RECORD)
    organisation = _own_organisation(uow, actor)
    if new.occurred_on > today:
        raise InvalidInput(_("The day of the encounter cannot be in the future."), "occurred_on")
    place = _choice(new.place, (p.value for p in Place), "place")
    if place is None:
        raise InvalidInput(_("This field is required."), field="place")
    needs = [_choice(n, (need.value for need in Need), "needs") for n in new.needs]
    youth = (
        get_for(  # locked, as every write about a youth: a purge going on finishes first
            uow,
            actor,
            Permission.ENCOUNTER_RECORD,
            Youth,
            new.youth_id,
            field="youth_id",
            lock=True,
        )
        if new.youth_id
        else None
    )
    encounter = Encounter(
        organisation_id=organisation.id,
        worker_id=actor.user_id,
        occurred_on=new.occurred_on,
        place=place,
        needs=",".join(sorted({n for n in needs if n})),
        gender=_choice(new.gender, GENDERS, "gender"),
        age_band=_choice(new.age_band, (b.value for b in AgeBand), "age_band"),
        youth_id=youth.id if youth else None,
        linked_by=actor.user_id if youth else None,
        linked_at=utcnow() if youth else None,
    )
    uow.session.add(encounter)
    uow.session.flush()
    record(
        uow.session,
        actor,
        Action.ENCOUNTER_RECORD,
        object_type="encounter",
        object_id=encounter.id,
        subject=youth.key_scope() if youth else None,
    )
    view = _encounter_view(encounter)
    uow.commit()
    return view


def encounters(uow: UnitOfWork, actor: Actor) -> list[EncounterView]:
    """The organisation's encounters, newest first: nothing personal, so nothing logged."""
    require(actor, Permission.ENCOUNTER_RECORD)
    query = select(Encounter).order_by(Encounter.occurred_on.desc(), Encounter.created_at.desc())
    scope = organisation_scope(actor)
    if scope is not None:
        query = query.where(Encounter.organisation_id == scope)
    return [_encounter_view(e) for e in uow.session.scalars(query.limit(500))]


def link_encounter(
    uow: UnitOfWork, actor: Actor, encounter_id: str, youth_id: str
) -> EncounterView:
    """The youth agreed: an anonymous encounter joins the youth's record."""
    require(actor, Permission.ENCOUNTER_LINK)
    encounter = get_for(
        uow, actor, Permission.ENCOUNTER_LINK, Encounter, encounter_id, field="encounter", lock=True
    )
    if encounter.youth_id is not None:
        raise Conflict(_("This encounter is linked to a youth already."), field="encounter")
    youth = get_for(uow, actor, Permission.ENCOUNTER_LINK, Youth, youth_id, field="youth_id")
    encounter.youth_id, encounter.linked_by, encounter.linked_at = youth.id, actor.user_id, utcnow()
    uow.session.flush()
    _record_link(uow, actor, Action.ENCOUNTER_LINK, encounter, youth)
    view = _encounter_view(encounter)
    uow.commit()
    return view


def unlink_encounter(uow: UnitOfWork, actor: Actor, encounter_id: str) -> EncounterView:
    """Undo a link (the youth withdrew, or it was the wrong youth): anonymous again."""
    require(actor, Permission.ENCOUNTER_LINK)
    encounter = get_for(
        uow, actor, Permission.ENCOUNTER_LINK, Encounter, encounter_id, field="encounter", lock=True
    )
    if encounter.youth_id is None:
        raise Conflict(_("This encounter is not linked to a youth."), field="encounter")
    youth = uow.session.get(Youth, encounter.youth_id)
    assert youth is not None  # a foreign key
    encounter.youth_id, encounter.linked_by, encounter.linked_at = None, None, None
    uow.session.flush()
    _record_link(uow, actor, Action.ENCOUNTER_UNLINK, encounter, youth)
    view = _encounter_view(encounter)
    uow.commit()
    return view


def _record_link(
    uow: UnitOfWork, actor: Actor, action: Action, encounter: Encounter, youth: Youth
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type="encounter",
        object_id=encounter.id,
        subject=youth.key_scope(),
    )


def _entry(action: Action, youth: Youth) -> Entry:
    return Entry(action, object_type="youth", object_id=youth.id, subject=youth.key_scope())


def _record(uow: UnitOfWork, actor: Actor, action: Action, youth: Youth) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type="youth",
        object_id=youth.id,
        subject=youth.key_scope(),
    )
