"""The morning registration (inskrivning): only on weekday mornings in the window, once a
person a morning (seed 002 §2.6.1).

Each registration day has a draw seed, drawn the first time anything asks for the day (the
desk page opening, a timer's `flask nights open`, or the first registration) and sealed; its
SHA-256 commitment is shown from then on, so it is public before anyone registers and nobody
can steer the draw by choosing when, or with which card, to register. An override (danger to
life, children involved) ranks a person first; children involved also files a concern report
to socialjouren at once, since only those grounds justify contacting it outside registration.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from audit.actions import Action
from audit.record import record
from config import Settings
from referral import card_numbers
from referral.actors import Actor
from referral.clock import STOCKHOLM, local_day
from referral.db.nights import NightPerson, NightRegistration, OverrideKind, RegistrationDay
from referral.db.uow import StepOf, UnitOfWork
from referral.errors import Conflict, InvalidInput
from referral.i18n import _
from referral.night_allocation import SEED_BYTES, commitment
from referral.night_calendar import RegistrationWindow, WindowTimes, nights_covered
from referral.policy import Permission, require
from referral.services import concern_reports
from referral.services.nights.people import optional_text, person_by_card

MAX_REASON = 500
MAX_CONTACT = 200


def window_of(settings: Settings) -> RegistrationWindow:
    opens, _sep, closes = settings.nights_window.partition("-")
    return RegistrationWindow(time.fromisoformat(opens), time.fromisoformat(closes))


def nights_of(day: date, settings: Settings) -> tuple[date, ...]:
    """The nights an allocation made on `day` covers (Friday's: until Monday)."""
    return nights_covered(day, settings.nights_per_allocation or None)


class OutsideWindow(Conflict):
    """Registration outside the window: refused with the next window's time."""

    def __init__(self, next_window: WindowTimes) -> None:
        opens = next_window.opens_at.astimezone(STOCKHOLM)
        closes = next_window.closes_at.astimezone(STOCKHOLM)
        super().__init__(
            _(
                "Registration is open on weekday mornings only. The next window is "
                "%(day)s, %(opens)s-%(closes)s.",
                day=opens.date().isoformat(),
                opens=opens.strftime("%H:%M"),
                closes=closes.strftime("%H:%M"),
            ),
            field="window",
        )
        self.next_window = next_window


def day_record(uow: UnitOfWork, day: date, *, lock: bool = False) -> RegistrationDay:
    """The registration day's record, drawing its seed the first time it is asked for. Two
    workers asking at once: one inserts, the other finds its row (the day is unique)."""
    query = select(RegistrationDay).where(RegistrationDay.day == day)
    found = uow.session.scalar(query.with_for_update() if lock else query)
    if found is not None:
        return found
    seed = secrets.token_bytes(SEED_BYTES)
    try:
        with uow.session.begin_nested():
            uow.session.add(RegistrationDay(day=day, commitment=commitment(seed), seed=seed.hex()))
    except IntegrityError:
        pass  # the other worker's seed stands: it may already have been shown
    found = uow.session.scalar(query.with_for_update() if lock else query)
    assert found is not None
    return found


@dataclass(frozen=True)
class DeskState:
    """What the desk and the public page show of a morning before the allocation."""

    day: date
    window: WindowTimes | None  # None: not a registration day
    open_now: bool
    next_window: WindowTimes
    commitment: str | None
    registered: int
    allocated: bool
    nights: tuple[date, ...]


def desk_state(uow: UnitOfWork, settings: Settings, now: datetime) -> DeskState:
    """Today's window, commitment and count (nothing personal). Draws the day's seed when
    today is a registration day, so the commitment is on show before the window opens."""
    window = window_of(settings)
    today = local_day(now)
    today_window = window.window_on(today)
    commitment_shown: str | None = None
    registered = 0
    allocated = False
    if today_window is not None:
        day = day_record(uow, today)
        commitment_shown = day.commitment
        allocated = day.allocated_at is not None
        registered = int(
            uow.session.scalar(
                select(func.count())
                .select_from(NightRegistration)
                .where(NightRegistration.day_id == day.id)
            )
            or 0
        )
        uow.commit()
    return DeskState(
        day=today,
        window=today_window,
        open_now=window.is_open(now) and not allocated,
        next_window=window.current_or_next(now),
        commitment=commitment_shown,
        registered=registered,
        allocated=allocated,
        nights=nights_of(today, settings) if today_window is not None else (),
    )


@dataclass(frozen=True)
class Override:
    kind: str
    reason: str
    # Children involved: who at the desk socialjouren can call back (the report needs it).
    reporter_contact: str | None = None


@dataclass(frozen=True)
class RegistrationReceipt:
    registration_id: str
    card_number: str  # as printed
    day: date
    nights: tuple[date, ...]
    override_kind: str | None
    concern_report_reference: str | None


def _checked_override(override: Override | None) -> Override | None:
    if override is None or not override.kind:
        return None
    if override.kind not in {k.value for k in OverrideKind}:
        raise InvalidInput(
            _("Choose one of: %(values)s.", values=", ".join(k.value for k in OverrideKind)),
            field="override_kind",
        )
    reason = optional_text(override.reason, "override_reason", MAX_REASON)
    if reason is None:
        raise InvalidInput(_("An override needs the reason, stated."), field="override_reason")
    contact = optional_text(override.reporter_contact, "reporter_contact", MAX_CONTACT)
    if override.kind == OverrideKind.CHILDREN_INVOLVED and contact is None:
        raise InvalidInput(
            _("Children involved: give a number socialjouren can call back."),
            field="reporter_contact",
        )
    return Override(override.kind, reason, contact)


def register(
    uow: UnitOfWork,
    actor: Actor,
    card_number: str | None,
    settings: Settings,
    now: datetime,
    override: Override | None = None,
) -> RegistrationReceipt:
    """Register the card's holder for tonight's allocation. Refused outside the window (with
    the next window's time), after the allocation, and a second time the same morning."""
    require(actor, Permission.NIGHT_REGISTER)
    checked = _checked_override(override)
    window = window_of(settings)
    if not window.is_open(now):
        raise OutsideWindow(window.current_or_next(now))
    # Locked: a registration and the allocation of the same morning never interleave.
    day = day_record(uow, local_day(now), lock=True)
    if day.allocated_at is not None:
        raise Conflict(
            _(
                "This morning's places have been allocated: registration is closed until "
                "the next window."
            ),
            field="window",
        )
    person = person_by_card(uow, actor, card_number, lock=True)
    already = uow.session.scalar(
        select(NightRegistration.id).where(
            NightRegistration.day_id == day.id, NightRegistration.person_id == person.id
        )
    )
    if already is not None:
        raise Conflict(_("This card is registered this morning already."), field="card_number")
    registration = NightRegistration(
        day_id=day.id, person_id=person.id, registered_by=actor.user_id
    )
    require(actor, Permission.NIGHT_REGISTER, registration)
    uow.session.add(registration)
    reference = _apply_override(uow, actor, registration, checked, settings, day.day)
    try:
        uow.session.flush()
    except IntegrityError:  # the same card at two desks in the same instant
        uow.rollback()
        raise Conflict(
            _("This card is registered this morning already."), field="card_number"
        ) from None
    record(
        uow.session,
        actor,
        Action.NIGHT_REGISTER,
        object_type="night_registration",
        object_id=registration.id,
        subject=registration.key_scope(),
    )
    if checked is not None:
        _record_override(uow, actor, registration)
    receipt = _receipt(registration, person, day, settings, reference)
    uow.commit()
    return receipt


def set_override(
    uow: UnitOfWork,
    actor: Actor,
    card_number: str | None,
    override: Override,
    settings: Settings,
    now: datetime,
) -> RegistrationReceipt:
    """An override for someone registered this morning, learnt of after the registration
    (before the allocation; one override a registration)."""
    require(actor, Permission.NIGHT_REGISTER)
    checked = _checked_override(override)
    if checked is None:
        raise InvalidInput(_("Choose the grounds of the override."), field="override_kind")
    day = day_record(uow, local_day(now), lock=True)
    if day.allocated_at is not None:
        raise Conflict(_("This morning's places have been allocated already."), field="window")
    person = person_by_card(uow, actor, card_number, lock=True)
    registration = uow.session.scalar(
        select(NightRegistration).where(
            NightRegistration.day_id == day.id, NightRegistration.person_id == person.id
        )
    )
    if registration is None:
        raise Conflict(_("This card is not registered this morning."), field="card_number")
    if registration.override_kind is not None:
        raise Conflict(_("This registration has an override already."), field="override_kind")
    reference = _apply_override(uow, actor, registration, checked, settings, day.day)
    uow.session.flush()
    _record_override(uow, actor, registration)
    receipt = _receipt(registration, person, day, settings, reference)
    uow.commit()
    return receipt


def _receipt(
    registration: NightRegistration,
    person: NightPerson,
    day: RegistrationDay,
    settings: Settings,
    reference: str | None,
) -> RegistrationReceipt:
    assert person.card_number is not None  # a purged card is never registered
    return RegistrationReceipt(
        registration_id=registration.id,
        card_number=card_numbers.display(person.card_number),
        day=day.day,
        nights=nights_of(day.day, settings),
        override_kind=registration.override_kind,
        concern_report_reference=reference,
    )


def _apply_override(
    uow: UnitOfWork,
    actor: Actor,
    registration: NightRegistration,
    override: Override | None,
    settings: Settings,
    today: date,
) -> str | None:
    """Set the override; when children are involved, file the concern report to
    socialjouren in the same transaction (both or neither). Its reference, if filed."""
    if override is None:
        return None
    registration.override_kind = override.kind
    registration.override_reason = override.reason
    registration.override_by = actor.user_id
    if override.kind != OverrideKind.CHILDREN_INVOLVED:
        return None
    assert override.reporter_contact is not None
    filed = concern_reports.file_report(
        StepOf(uow.session),
        actor,
        concern_reports.NewConcernReport(
            what_happened=override.reason,
            reporter_contact=override.reporter_contact,
            place=str(_("The night-place registration")),
            subject_description=str(
                _("Children with a person registering for a night place (Programme C).")
            ),
        ),
        concern_reports.AcknowledgementRule.from_settings(settings),
        today,
    )
    registration.concern_report_id = filed.report_id
    return filed.reference


def _record_override(uow: UnitOfWork, actor: Actor, registration: NightRegistration) -> None:
    record(
        uow.session,
        actor,
        Action.NIGHT_OVERRIDE,
        object_type="night_registration",
        object_id=registration.id,
        subject=registration.key_scope(),
        details={"grounds": registration.override_kind},
    )
