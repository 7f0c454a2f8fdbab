"""Activity reports for the steering group: a page with charts drawn on the server (SVG, so
no script and a strict CSP), a CSV and a printable PDF of the same document."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from referral import clock
from referral.policy import PROGRAMMES, Permission, programmes_of
from referral.reports.charts import bar_chart
from referral.reports.document import Document, Mark, Table
from referral.request_scope import request_uow
from referral.services.reports import labels
from referral.services.reports.activity import activity_report
from referral.services.reports.periods import Period, parse_period, recent_periods
from referral.spreadsheet import to_csv
from referral.web.access import current_actor, requires

blueprint = Blueprint("reports", __name__, url_prefix="/reports")


@blueprint.route("")
@requires(Permission.ACTIVITY_REPORT_READ)
def index() -> ResponseReturnValue:
    mine = [p for p in PROGRAMMES if p in programmes_of(current_actor())]
    return render_template(
        "reports/index.html",
        programmes=[(p, labels.programme(p)) for p in mine],
        periods=[(p, labels.period(p)) for p in recent_periods(clock.today())],
    )


def _period_or_404(key: str) -> Period:
    period = parse_period(key)
    if period is None or period.first_day > clock.today():
        abort(404)
    return period


def _document(programme: str, key: str, fmt: str) -> tuple[Period, Document]:
    period = _period_or_404(key)
    if programme not in PROGRAMMES:
        abort(404)
    with request_uow() as uow:
        document = activity_report(uow, current_actor(), programme, period, clock.now(), fmt)
    return period, document


@blueprint.route("/<programme>/<key>")
@requires(Permission.ACTIVITY_REPORT_READ)
def report(programme: str, key: str) -> ResponseReturnValue:
    period, document = _document(programme, key, "page")
    charts = {
        # The chart escapes every label itself.
        table.key: Markup(  # noqa: S704  # nosec B704
            bar_chart(table, column=table.chart_column, label=table.title)
        )
        for section in document.sections
        for table in section.tables
        if table.chart_column is not None and not _nothing_in(table)
    }
    return render_template(
        "reports/activity.html",
        document=document,
        charts=charts,
        programme=programme,
        period=period,
        ongoing=period.last_day >= clock.today(),
    )


def _nothing_in(table: Table) -> bool:
    """No row, or a total of zero shown: a chart of nothing would only lengthen the page."""
    if not table.rows:
        return True
    total = table.rows[-1].cells[-1]
    return total.mark is Mark.SHOWN and total.value == 0


def _filename(programme: str, period: Period, suffix: str) -> str:
    return f"verksamhetsrapport-{programme}-{period.key}.{suffix}"


@blueprint.route("/<programme>/<key>/report.csv")
@requires(Permission.ACTIVITY_REPORT_READ)
def export_csv(programme: str, key: str) -> ResponseReturnValue:
    """Long form, one figure a line, as a spreadsheet pivots it; semicolons, as Swedish
    spreadsheets read. Suppressed cells are "<5" or a dash, never a number."""
    period, document = _document(programme, key, "csv")
    lines: list[list[object]] = []
    for section in document.sections:
        for figure in section.figures:
            lines.append([section.title, figure.label, "", "", figure.text])
        for table in section.tables:
            for row in table.rows:
                for column, cell in zip(table.columns, row.cells, strict=True):
                    value: object = cell.value if cell.value is not None else cell.text
                    lines.append([section.title, table.title, row.label, column, value])
    content = to_csv(
        [document.title, document.subtitle, "", "", document.produced], lines, delimiter=";"
    )
    return Response(
        content,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={_filename(programme, period, 'csv')}"
        },
    )


@blueprint.route("/<programme>/<key>/report.pdf")
@requires(Permission.ACTIVITY_REPORT_READ)
def export_pdf(programme: str, key: str) -> ResponseReturnValue:
    # Imported here: fpdf2 (with fontTools and Pillow) is several MB in every worker that
    # imports it, and a PDF of a report is asked for a few times a month.
    from referral.reports.pdf import render_pdf

    period, document = _document(programme, key, "pdf")
    return Response(
        render_pdf(document, creation_date=clock.now()),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename={_filename(programme, period, 'pdf')}"
        },
    )
