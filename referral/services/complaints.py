"""Complaints and suggestions (synpunkter och klagomål, issue 15; seed 000 §4.2, seed 002
§4.1): participants give feedback "in a structured, regular way", anonymously if they wish.

Anyone may send one through the public form (no login: the access log names a system actor,
never the sender or their address); a partner's staff record one on a participant's behalf,
read those of their own programme and record the response and its date; the city's
coordinator and the DPO read every programme's. Reading the sealed text is on record before
it is returned. The summary counts clear columns only, so a purge leaves it unchanged.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral import clock
from referral.actors import Actor, Origin
from referral.clock import STOCKHOLM, local_day
from referral.db.complaints import (
    PROGRAMMES,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintKind,
    ResponseOutcome,
)
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, Denial, InvalidInput, NotFound
from referral.i18n import _, _l
from referral.policy import Permission, can, programmes_of, require
from referral.text_rules import has_refused_character

MAX_TEXT = 4000
MAX_CONTACT = 200
MAX_RESPONSE = 4000

# The public form's sender in the access log: no one, from nowhere (their address is not
# kept: anonymity is promised on the form).
PUBLIC_FORM_ACTOR = "system:public-form"


def public_actor(request_id: str | None = None) -> Actor:
    origin = Origin(request_id=request_id or Origin.command_line().request_id, client_address="-")
    return Actor(
        user_id=PUBLIC_FORM_ACTOR,
        username=PUBLIC_FORM_ACTOR,
        organisation_id=None,
        roles=frozenset(),
        system=True,
        origin=origin,
    )


def reference_of(complaint_id: str) -> str:
    """The short reference a sender may quote: never anything they wrote."""
    return complaint_id[:8].upper()


# --- What the services answer -----------------------------------------------------------------


# What the form, the list and the activity report call each kind and category.
KIND_LABELS = {
    ComplaintKind.COMPLAINT.value: _l("A complaint"),
    ComplaintKind.SUGGESTION.value: _l("A suggestion"),
    ComplaintKind.PRAISE.value: _l("Praise"),
}
CATEGORY_LABELS = {
    ComplaintCategory.TREATMENT.value: _l("How staff treated me"),
    ComplaintCategory.ACCESSIBILITY.value: _l("Opening hours and accessibility"),
    ComplaintCategory.PLACES.value: _l("Places and how they are shared out"),
    ComplaintCategory.ACTIVITIES.value: _l("Activities and what they contain"),
    ComplaintCategory.SAFETY.value: _l("Safety"),
    ComplaintCategory.PREMISES.value: _l("Premises"),
    ComplaintCategory.INFORMATION.value: _l("Information"),
    ComplaintCategory.OTHER.value: _l("Something else"),
}


@dataclass(frozen=True)
class Receipt:
    reference: str
    programme: str
    kind: str


@dataclass(frozen=True)
class ComplaintLine:
    """One complaint as a list shows it: clear columns only."""

    id: str
    reference: str
    programme: str
    kind: str
    category: str
    channel: str
    received_at: datetime
    received_on: date
    responded_on: date | None
    outcome: str | None
    # Open: days since receipt; answered: days from receipt to the response.
    days: int

    @property
    def answered(self) -> bool:
        return self.responded_on is not None


@dataclass(frozen=True)
class ComplaintDetail:
    line: ComplaintLine
    text: str
    contact: str | None
    response: str | None
    responded_at: datetime | None
    # Whether the reader may record the response (their own programme, and not yet answered).
    may_respond: bool


@dataclass(frozen=True)
class SummaryLine:
    category: str
    kind: str
    count: int
    responded: int
    median_days: float | None  # from receipt to response, of those answered
    worst_days: int | None


# --- Input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewComplaint:
    programme: str | None
    kind: str | None
    category: str | None
    text: str | None
    contact: str | None = None


def _choice(value: str | None, allowed: Iterable[str], field: str) -> str:
    if not value:
        raise InvalidInput(_("This field is required."), field=field)
    if value not in allowed:
        raise InvalidInput(_("Choose one of the options."), field=field)
    return value


def _text(value: str | None, field: str, longest: int, *, required: bool) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(_("This field is required."), field=field)
        return None
    if len(cleaned) > longest:
        raise InvalidInput(_("At most %(n)s characters.", n=longest), field=field)
    multiline = field != "contact"
    if has_refused_character(cleaned, multiline=multiline):
        raise InvalidInput(
            _("Remove the control characters (invisible characters such as NUL)."), field=field
        )
    return cleaned


def _validated(new: NewComplaint) -> Complaint:
    programme = _choice(new.programme, PROGRAMMES, "programme")
    kind = _choice(new.kind, tuple(ComplaintKind), "kind")
    category = _choice(new.category, tuple(ComplaintCategory), "category")
    text = _text(new.text, "text", MAX_TEXT, required=True)
    contact = _text(new.contact, "contact", MAX_CONTACT, required=False)
    complaint = Complaint(programme=programme, kind=kind, category=category)
    complaint.text = text
    complaint.contact = contact
    return complaint


def _record(uow: UnitOfWork, actor: Actor, action: Action, complaint: Complaint) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type="complaint",
        object_id=complaint.id,
        subject=complaint.key_scope(),
    )


# --- The verbs -------------------------------------------------------------------------------


def submit_public(
    uow: UnitOfWork, new: NewComplaint, now: datetime, request_id: str | None = None
) -> Receipt:
    """Feedback sent through the public form, by anyone, without logging in."""
    complaint = _validated(new)
    complaint.channel = ComplaintChannel.PUBLIC_FORM.value
    complaint.received_at = now
    complaint.recorded_by = None
    uow.session.add(complaint)
    uow.session.flush()
    _record(uow, public_actor(request_id), Action.COMPLAINT_SUBMIT, complaint)
    receipt = Receipt(reference_of(complaint.id), complaint.programme, complaint.kind)
    uow.commit()
    return receipt


def record_on_behalf(
    uow: UnitOfWork, actor: Actor, new: NewComplaint, now: datetime
) -> ComplaintLine:
    """Staff record what a participant said (in person, by phone), for their own programme."""
    require(actor, Permission.COMPLAINT_RECORD)
    complaint = _validated(new)
    if complaint.programme not in programmes_of(actor):
        raise InvalidInput(_("You record feedback for your own programme only."), field="programme")
    complaint.channel = ComplaintChannel.STAFF.value
    complaint.received_at = now
    complaint.recorded_by = actor.user_id
    uow.session.add(complaint)
    uow.session.flush()
    _record(uow, actor, Action.COMPLAINT_RECORD, complaint)
    line = _line(complaint, local_day(now))
    uow.commit()
    return line


def _load(
    uow: UnitOfWork,
    actor: Actor,
    permission: Permission,
    complaint_id: str | None,
    *,
    lock: bool = False,
) -> Complaint:
    """The complaint if the actor follows its programme; a missing one, a purged one and one
    of another programme answer alike (404), and the refusal is on record."""
    require(actor, permission)
    found = (
        uow.session.get(
            Complaint, complaint_id, with_for_update=lock or None, populate_existing=lock
        )
        if complaint_id
        else None
    )
    if found is None or found.purged_at is not None:
        raise NotFound(_("No such record."), field="complaint_id")
    if found.programme not in programmes_of(actor):
        hidden = NotFound(_("No such record."), field="complaint_id")
        hidden.denial = Denial(
            actor, permission.value, "Complaint", found.id, subject=found.key_scope()
        )
        raise hidden
    return found


def _days(complaint: Complaint, today: date) -> int:
    received_on = local_day(complaint.received_at)
    end = complaint.responded_on or today
    return max((end - received_on).days, 0)


def _line(complaint: Complaint, today: date) -> ComplaintLine:
    return ComplaintLine(
        id=complaint.id,
        reference=reference_of(complaint.id),
        programme=complaint.programme,
        kind=complaint.kind,
        category=complaint.category,
        channel=complaint.channel,
        received_at=complaint.received_at,
        received_on=local_day(complaint.received_at),
        responded_on=complaint.responded_on,
        outcome=complaint.outcome,
        days=_days(complaint, today),
    )


def list_for(
    uow: UnitOfWork,
    actor: Actor,
    programme: str | None = None,
    open_only: bool = False,
    answered_only: bool = False,
    today: date | None = None,
) -> list[ComplaintLine]:
    """The complaints of the programmes the actor follows (or of one of them), oldest open
    first; clear columns only, so nothing here is a read of what anyone wrote."""
    require(actor, Permission.COMPLAINT_READ)
    followed = programmes_of(actor)
    wanted = followed if programme is None else followed & {programme}
    if not wanted:
        return []
    query = (
        select(Complaint)
        .where(Complaint.programme.in_(sorted(wanted)), Complaint.purged_at.is_(None))
        .order_by(Complaint.received_at, Complaint.id)
    )
    if open_only:
        query = query.where(Complaint.responded_on.is_(None))
    if answered_only:
        query = query.where(Complaint.responded_on.is_not(None))
    day = today or clock.today()
    lines = [_line(complaint, day) for complaint in uow.session.scalars(query)]
    # The open ones first (oldest first), then the answered (most recent first).
    open_lines = [line for line in lines if not line.answered]
    answered = sorted(
        (line for line in lines if line.answered), key=lambda line: line.received_at, reverse=True
    )
    return open_lines + answered


def _detail(actor: Actor, complaint: Complaint, today: date) -> ComplaintDetail:
    return ComplaintDetail(
        line=_line(complaint, today),
        text=complaint.text or "",
        contact=complaint.contact,
        response=complaint.response,
        responded_at=complaint.responded_at,
        may_respond=complaint.responded_on is None and can(actor, Permission.COMPLAINT_RESPOND),
    )


def read(
    uow: UnitOfWork, actor: Actor, complaint_id: str | None, today: date | None = None
) -> ComplaintDetail:
    """One complaint with its text, contact and response: on record before it is returned."""
    complaint = _load(uow, actor, Permission.COMPLAINT_READ, complaint_id)
    _record(uow, actor, Action.COMPLAINT_READ, complaint)
    uow.session.flush()
    detail = _detail(actor, complaint, today or clock.today())
    uow.commit()
    return detail


def respond(
    uow: UnitOfWork,
    actor: Actor,
    complaint_id: str | None,
    outcome: str | None,
    response: str | None,
    responded_on: date | None,
    now: datetime,
) -> ComplaintLine:
    """Record the partner's response, what it did (the outcome) and the day it was given:
    not before the complaint was received, nor after today."""
    complaint = _load(uow, actor, Permission.COMPLAINT_RESPOND, complaint_id, lock=True)
    if complaint.responded_on is not None:
        raise Conflict(_("This feedback has been answered already."), field="complaint_id")
    chosen = _choice(outcome, tuple(ResponseOutcome), "outcome")
    text = _text(response, "response", MAX_RESPONSE, required=True)
    if responded_on is None:
        raise InvalidInput(_("This field is required."), field="responded_on")
    received_on = local_day(complaint.received_at)
    today = local_day(now)
    if responded_on < received_on:
        raise InvalidInput(
            _(
                "The response cannot be dated before the feedback was received (%(day)s).",
                day=received_on.isoformat(),
            ),
            field="responded_on",
        )
    if responded_on > today:
        raise InvalidInput(_("The response cannot be dated in the future."), field="responded_on")
    complaint.outcome = chosen
    complaint.response = text
    complaint.responded_on = responded_on
    complaint.responded_at = now
    complaint.responded_by = actor.user_id
    uow.session.flush()
    _record(uow, actor, Action.COMPLAINT_RESPOND, complaint)
    line = _line(complaint, today)
    uow.commit()
    return line


def received(
    uow: UnitOfWork, programme: str | None, start: date, end: date
) -> dict[tuple[str, str], list[int | None]]:
    """Per (category, kind), each piece of feedback received from `start` to `end`
    (Stockholm days, both included): the days until its response, None while unanswered."""
    since = datetime.combine(start, time(), tzinfo=STOCKHOLM)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=STOCKHOLM)
    query = select(
        Complaint.category, Complaint.kind, Complaint.received_at, Complaint.responded_on
    ).where(Complaint.received_at >= since, Complaint.received_at < until)
    if programme is not None:
        query = query.where(Complaint.programme == programme)
    counts: dict[tuple[str, str], list[int | None]] = {}
    for category, kind, received_at, responded_on in uow.session.execute(query):
        days = None if responded_on is None else (responded_on - local_day(received_at)).days
        counts.setdefault((category, kind), []).append(days)
    return counts


def summary(uow: UnitOfWork, programme: str | None, start: date, end: date) -> list[SummaryLine]:
    """Per category and kind, the feedback received from `start` to `end` (Stockholm days,
    both included) in `programme` (None: every programme): how many, how many answered, and
    the median and the longest time to the response in days. From clear columns only, purged
    rows included: a purge does not change it."""
    counts = received(uow, programme, start, end)
    order = {value.value: n for n, value in enumerate(ComplaintCategory)}
    kinds = {value.value: n for n, value in enumerate(ComplaintKind)}
    lines = []
    for (category, kind), all_days in sorted(
        counts.items(), key=lambda item: (order.get(item[0][0], 99), kinds.get(item[0][1], 99))
    ):
        answered = [d for d in all_days if d is not None]
        lines.append(
            SummaryLine(
                category=category,
                kind=kind,
                count=len(all_days),
                responded=len(answered),
                median_days=float(statistics.median(answered)) if answered else None,
                worst_days=max(answered) if answered else None,
            )
        )
    return lines
