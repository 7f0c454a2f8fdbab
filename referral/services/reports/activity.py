"""The activity report of one partnership (one programme) for one period: its figures, in
tables whose small counts are suppressed (reports.suppression), as a document the page, the
CSV and the PDF all draw (reports.document).

Who sees which: a partner's staff their own programme's report, the city's coordinator and
the DPO every programme's (policy.programmes_of); any other programme is not found.
Producing a report is written to the access log before it is returned. A year's report
protects the difference from the May-October report inside it (Period.nested): the reader
holding both learns no small count from subtracting one from the other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import median
from typing import Any

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.clock import STOCKHOLM
from referral.db.complaints import ComplaintCategory, ComplaintKind
from referral.db.uow import UnitOfWork
from referral.errors import NotFound
from referral.i18n import _
from referral.policy import Permission, programmes_of, require
from referral.reports.document import Cell, Document, Figure, Mark, Section, Table
from referral.reports.tables import Axis, Key, count_table, plain_table
from referral.services import complaints
from referral.services import kept_statistics as kept
from referral.services.reports import labels, programme_a, programme_b, programme_c
from referral.services.reports.periods import Period

SMALLEST_SHOWN = 5  # a figure resting on fewer people is not shown (like a count of 1-4)
FORMATS = ("page", "csv", "pdf")


def activity_report(
    uow: UnitOfWork, actor: Actor, programme: str, period: Period, now: datetime, fmt: str
) -> Document:
    require(actor, Permission.ACTIVITY_REPORT_READ)
    if programme not in programmes_of(actor) or fmt not in FORMATS:
        raise NotFound(_("No such report."))
    build = _BUILDERS[programme]
    sections = (*build(uow, period), _feedback(uow, programme, period))
    record(
        uow.session,
        actor,
        Action.ACTIVITY_REPORT_PRODUCE,
        object_type="activity_report",
        object_id=f"{programme}:{period.key}:{fmt}",
    )
    uow.commit()  # on record before it is returned
    return Document(
        title=_("Activity report: %(programme)s", programme=labels.programme(programme)),
        subtitle=labels.period(period),
        produced=_(
            "Produced %(when)s by %(role)s",
            when=now.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
            role=labels.roles_of(actor),
        ),
        sections=sections,
        notes=(
            _("<5: between 1 and 4. Small counts are not shown so that no one can be singled out."),
            _(
                "–: hidden so that a small count cannot be worked out from the totals or from "
                "another report."
            ),
            _(
                "Every count is of an event in the period; a status is the one it had when the "
                "period ended. The figures do not change when data is purged."
            ),
        ),
    )


# --- Figures ---------------------------------------------------------------------------------


# A headline count or share is read off a table already suppressed, never counted apart: a
# figure beside the table must not show what the table hides (a total hidden to protect a
# small count, or the difference from the May-October report).


def _total(table: Table, column: int = -1) -> Cell:
    return table.rows[-1].cells[column]


def _count_of(key: str, label: str, table: Table, column: int = -1) -> Figure:
    return Figure(key, label, _total(table, column).text)


def _share_of(key: str, label: str, table: Table, column: int) -> Figure:
    """The share a column's total is of the whole: shown when both are, and neither the
    part nor the rest is fewer than five."""
    part, whole = _total(table, column), _total(table)
    if whole.mark is Mark.SHOWN and whole.value == 0:
        return Figure(key, label, "–")
    if part.value is None or whole.value is None:
        return Figure(key, label, _("not shown"))
    if 0 < part.value < SMALLEST_SHOWN or 0 < whole.value - part.value < SMALLEST_SHOWN:
        return Figure(key, label, _("not shown"))
    return Figure(key, label, f"{round(100 * part.value / whole.value)} %")


def _hours(
    key: str, label: str, hours: list[float], pick: Callable[[list[float]], float]
) -> Figure:
    if not hours:
        return Figure(key, label, "–")
    if len(hours) < SMALLEST_SHOWN:
        return Figure(key, label, _("not shown (fewer than 5)"))
    return Figure(key, label, _("%(hours)s h", hours=f"{pick(hours):.1f}"))


# --- Tables ----------------------------------------------------------------------------------


def _nested(
    collect: Callable[[UnitOfWork, Period], Any], uow: UnitOfWork, period: Period
) -> Any | None:
    inner = period.nested
    return collect(uow, inner) if inner is not None else None


def _table(
    key: str,
    title: str,
    heading: str,
    rows: Axis,
    columns: Axis,
    counts: Counter[Key],
    inner: Counter[Key] | None,
) -> Table:
    return count_table(
        key, title, heading, rows, columns, counts, total_label=_("Total"), nested_in=inner
    )


def _acknowledgement(hours: list[float]) -> tuple[Figure, Figure]:
    """How long concern reports waited for the receiver's acknowledgement."""
    return (
        _hours(
            "median_hours_to_acknowledge",
            _("Median time until a concern report was acknowledged"),
            hours,
            median,
        ),
        _hours(
            "worst_hours_to_acknowledge",
            _("Longest time until a concern report was acknowledged"),
            hours,
            max,
        ),
    )


def _concern_reports(
    key: str, title: str, counts: Counter[Key], inner: Counter[Key] | None
) -> Table:
    return _table(
        key,
        title,
        _("Concern reports"),
        labels.axis(("acknowledged", "waiting"), labels.CONCERN),
        Axis(("count",), (_("Number"),)),
        counts,
        inner,
    )


def _programme_a(uow: UnitOfWork, period: Period) -> tuple[Section, ...]:
    facts = programme_a.collect(uow, period)
    inner = _nested(programme_a.collect, uow, period)
    genders = labels.axis(programme_a.GENDERS, labels.GENDER)
    districts = Axis.of(
        sorted(
            ((i, facts.districts.get(i, "?")) for i in {d for d, _ in facts.placed_by_district}),
            key=lambda pair: pair[1],
        )
    )
    single = Axis(("count",), (_("Number"),))
    placed = _table(
        "placed_by_age_gender",
        _("Children placed, by age band and gender"),
        _("Age band"),
        labels.axis(programme_a.AGE_BANDS, labels.AGE_BAND),
        genders,
        facts.placed_by_age,
        inner.placed_by_age if inner else None,
    )
    return (
        Section(
            "referrals",
            _("Referrals and children placed"),
            figures=(
                _count_of("children_placed", _("Children placed in a group"), placed),
                _share_of("girls_share", _("Girls among the children placed"), placed, 0),
            ),
            tables=(
                _table(
                    "referrals_by_status_gender",
                    _("Referrals sent in the period, by status at its end and gender"),
                    _("Status"),
                    labels.axis(labels.REFERRAL_STATUSES, labels.REFERRAL_STATUS),
                    genders,
                    facts.referrals_by_status,
                    inner.referrals_by_status if inner else None,
                ),
                placed,
                _table(
                    "placed_by_district_gender",
                    _("Children placed, by district and gender"),
                    _("District"),
                    districts,
                    genders,
                    facts.placed_by_district,
                    inner.placed_by_district if inner else None,
                ),
            ),
        ),
        Section(
            "groups",
            _("Groups and attendance"),
            figures=(_attendance(facts),),
            tables=(
                plain_table(
                    "groups_by_format_size",
                    _("Groups started in the period, by format and number of children"),
                    _("Format"),
                    labels.axis(("weekly", "weekend"), labels.GROUP_FORMAT),
                    labels.axis(programme_a.GROUP_SIZES, labels.GROUP_SIZE),
                    facts.groups_by_format,
                    total_label=_("Total"),
                ),
            ),
        ),
        Section(
            "consent_and_concern",
            _("Consents and concern reports"),
            figures=(*_acknowledgement(facts.hours_to_acknowledge),),
            tables=(
                _table(
                    "consents",
                    _("Consent decisions recorded, and consents that lapsed"),
                    _("Decision"),
                    labels.axis(programme_a.CONSENT_OUTCOMES, labels.CONSENT_OUTCOME),
                    single,
                    facts.consents,
                    inner.consents if inner else None,
                ),
                _concern_reports(
                    "concern_reports",
                    _("Concern reports filed from the programme"),
                    facts.concern_filed,
                    inner.concern_filed if inner else None,
                ),
            ),
        ),
    )


def _attendance(facts: programme_a.FactsA) -> Figure:
    """Present at the sessions held, of the marks recorded: a rate, shown when five children
    or more were marked (not a count: the marks are not shown)."""
    label = _("Attendance at the sessions held")
    if facts.attending_children == 0:
        return Figure("attendance_rate", label, "–")
    if facts.attending_children < SMALLEST_SHOWN:
        return Figure("attendance_rate", label, _("not shown (fewer than 5)"))
    rate = round(100 * facts.attendance_present / facts.attendance_marked)
    return Figure("attendance_rate", label, f"{rate} %")


def _programme_b(uow: UnitOfWork, period: Period) -> tuple[Section, ...]:
    facts = programme_b.collect(uow, period)
    inner = _nested(programme_b.collect, uow, period)
    genders = labels.axis(programme_b.GENDERS, labels.GENDER)
    encounters = _table(
        "encounters_by_age_gender",
        _("Encounters, by age band and gender"),
        _("Age band"),
        labels.axis(programme_b.AGE_BANDS, labels.AGE_BAND),
        genders,
        facts.encounters_by_age,
        inner.encounters_by_age if inner else None,
    )
    kinds = _table(
        "encounters_anonymous_identified",
        _("Encounters, anonymous and with the youth's identity recorded"),
        _("Encounters"),
        labels.axis(("anonymous", "identified"), labels.ENCOUNTER_KIND),
        Axis(("count",), (_("Number"),)),
        programme_b.encounter_kinds(facts),
        programme_b.encounter_kinds(inner) if inner else None,
    )
    return (
        Section(
            "encounters",
            _("Encounters"),
            figures=(
                _count_of("encounters", _("Encounters"), encounters),
                _share_of("girls_share", _("Girls among those met"), encounters, 0),
            ),
            tables=(
                encounters,
                kinds,
                _table(
                    "youths_by_age_gender",
                    _("Youths met with their identity recorded, by age band and gender"),
                    _("Age band"),
                    labels.axis(programme_b.AGE_BANDS, labels.AGE_BAND),
                    genders,
                    facts.youths_by_age,
                    inner.youths_by_age if inner else None,
                ),
                _country_table(
                    "youths_by_country_gender",
                    _("Youths met with their identity recorded, by country of origin and gender"),
                    genders,
                    facts.youths_by_country,
                    inner.youths_by_country if inner else None,
                ),
                _table(
                    "encounters_by_place_gender",
                    _("Encounters, by place and gender"),
                    _("Place"),
                    labels.axis(labels.PLACES, labels.PLACE),
                    genders,
                    facts.encounters_by_place,
                    inner.encounters_by_place if inner else None,
                ),
            ),
        ),
        Section(
            "link_cases",
            _("Link cases and found youths"),
            figures=(
                _hours(
                    "median_hours_to_notification",
                    _("Median time from finding a youth until the district acknowledged"),
                    facts.hours_to_notification,
                    median,
                ),
                *_acknowledgement(facts.hours_to_acknowledge),
            ),
            tables=(
                _table(
                    "link_cases_by_authority_outcome",
                    _("Link cases opened in the period, by authority and outcome"),
                    _("Authority"),
                    labels.axis(labels.AUTHORITIES, labels.AUTHORITY),
                    labels.axis(labels.LINK_OUTCOMES, labels.LINK_OUTCOME),
                    facts.link_cases,
                    inner.link_cases if inner else None,
                ),
                _concern_reports(
                    "findings",
                    _("Absconded or missing youths found, and whether the district acknowledged"),
                    facts.findings,
                    inner.findings if inner else None,
                ),
                _concern_reports(
                    "concern_reports",
                    _("Concern reports filed about youths"),
                    facts.concern_filed,
                    inner.concern_filed if inner else None,
                ),
            ),
        ),
    )


def _programme_c(uow: UnitOfWork, period: Period) -> tuple[Section, ...]:
    facts = programme_c.collect(uow, period)
    inner = _nested(programme_c.collect, uow, period)
    months = Axis.of([(m.strftime("%Y-%m"), labels.month(m)) for m in period.months()])
    shelters = Axis.of(sorted(facts.shelters.items(), key=lambda pair: pair[1]))
    genders = labels.axis(programme_c.GENDERS, labels.GENDER)
    mornings = _table(
        "mornings_by_month",
        _("Places given and people turned away, by month"),
        _("Month"),
        months,
        labels.axis(programme_c.MORNING_COUNTS, labels.MORNING_COUNT),
        facts.mornings,
        inner.mornings if inner else None,
    )
    people = _table(
        "people_by_age_gender",
        _("People who registered, by age band and gender"),
        _("Age band"),
        labels.axis(programme_c.AGE_BANDS, labels.AGE_BAND),
        genders,
        facts.people_by_age,
        inner.people_by_age if inner else None,
    )
    return (
        Section(
            "night_places",
            _("Night places"),
            figures=(
                Figure("mornings", _("Mornings with an allocation"), str(facts.runs)),
                _count_of("people", _("People who registered"), people),
                _share_of("women_share", _("Women among them"), people, 0),
                _count_of("turned_away", _("Nights asked for and not given"), mornings, 1),
            ),
            tables=(
                mornings,
                people,
                _country_table(
                    "people_by_country_gender",
                    _("People who registered, by country of origin and gender"),
                    genders,
                    facts.people_by_country,
                    inner.people_by_country if inner else None,
                ),
                _table(
                    "nights_by_shelter",
                    _("Nights given, by shelter and what became of them"),
                    _("Shelter"),
                    shelters,
                    labels.axis(labels.NIGHT_STATUSES, labels.NIGHT_STATUS),
                    facts.nights_by_shelter,
                    inner.nights_by_shelter if inner else None,
                ),
            ),
        ),
    )


def _feedback_of(uow: UnitOfWork, programme: str, period: Period) -> _Feedback:
    """The period's feedback in one read: counts by (category, kind), and per category the
    days each answered piece waited for its response."""
    received = complaints.received(uow, programme, period.first_day, period.last_day)
    waits: dict[str, list[int]] = {}
    for (category, _kind), days in received.items():
        waits.setdefault(category, []).extend(d for d in days if d is not None)
    return _Feedback(Counter({key: len(days) for key, days in received.items()}), waits)


@dataclass(frozen=True)
class _Feedback:
    counts: Counter[Key]
    waits: dict[str, list[int]]

    @property
    def answered(self) -> Counter[Key]:
        return Counter({(category, "count"): len(days) for category, days in self.waits.items()})


def _feedback(uow: UnitOfWork, programme: str, period: Period) -> Section:
    """Complaints and suggestions (synpunkter och klagomål): by category and kind, and how
    long a response took (from receipt to the day it was given)."""
    categories = labels.axis([c.value for c in ComplaintCategory], complaints.CATEGORY_LABELS)
    feedback = _feedback_of(uow, programme, period)
    inner = _nested(lambda uow_, p: _feedback_of(uow_, programme, p), uow, period)
    answered = _table(
        "feedback_response_days",
        _("Days until a response, by category"),
        _("Category"),
        categories,
        Axis(("count",), (_("Answered"),)),
        feedback.answered,
        inner.answered if inner else None,
    )
    return Section(
        "feedback",
        _("Feedback and complaints"),
        tables=(
            _table(
                "feedback_by_category_kind",
                _("Feedback received, by category and kind"),
                _("Category"),
                categories,
                labels.axis([k.value for k in ComplaintKind], complaints.KIND_LABELS),
                feedback.counts,
                inner.counts if inner else None,
            ),
            _with_days(answered, [c.value for c in ComplaintCategory], feedback.waits),
        ),
    )


def _with_days(answered: Table, categories: list[str], waits: dict[str, list[int]]) -> Table:
    """The answered counts (suppressed like any count) with the median and the longest wait
    beside each: shown only where the count is shown and five or more (a time resting on
    fewer tells of one person's case)."""
    every = [day for days in waits.values() for day in days]
    rows = []
    for row, days in zip(
        answered.rows, [*(waits.get(c, []) for c in categories), every], strict=True
    ):
        count = row.cells[0]
        if count.value is not None and count.value >= SMALLEST_SHOWN:
            times = (Cell(Mark.SHOWN, round(median(days))), Cell(Mark.SHOWN, max(days)))
        else:
            times = (Cell(Mark.HIDDEN), Cell(Mark.HIDDEN))
        rows.append(replace(row, cells=(count, *times)))
    return replace(
        answered,
        columns=(_("Answered"), _("Median days"), _("Longest, days")),
        rows=tuple(rows),
        chart_column=None,
    )


OTHER_COUNTRIES = "other_countries"


def _country_table(
    key: str, title: str, genders: Axis, counts: Counter[Key], inner: Counter[Key] | None
) -> Table:
    """Countries of origin as rows: a country fewer than five people came from would name
    itself in its row's label, so those are counted together as "other countries" (chosen
    from this period's counts, and the nested period's folded the same way)."""
    totals: Counter[str] = Counter()
    for (country, _gender), n in counts.items():
        totals[country] += n
    rare = {c for c, n in totals.items() if n < SMALLEST_SHOWN and c != kept.UNKNOWN}
    named = sorted(c for c in totals if c not in rare and c != kept.UNKNOWN)

    def fold(found: Counter[Key]) -> Counter[Key]:
        folded: Counter[Key] = Counter()
        for (country, gender), n in found.items():
            folded[(OTHER_COUNTRIES if country in rare else country, gender)] += n
        return folded

    rows = Axis.of(
        [(c, c) for c in named]
        + [(OTHER_COUNTRIES, _("Other countries")), (kept.UNKNOWN, _("Not known"))]
    )
    return _table(
        key,
        title,
        _("Country of origin"),
        rows,
        genders,
        fold(counts),
        fold(inner) if inner is not None else None,
    )


_BUILDERS: dict[str, Callable[[UnitOfWork, Period], tuple[Section, ...]]] = {
    "A": _programme_a,
    "B": _programme_b,
    "C": _programme_c,
}
