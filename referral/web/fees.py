"""The fee report page: places taken by children of other municipalities, 5 000 SEK each."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from referral import clock
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import fees
from referral.spreadsheet import to_csv
from referral.web.access import current_actor, requires

blueprint = Blueprint("fees", __name__, url_prefix="/fees")


def _year() -> int:
    year = request.args.get("year", default=clock.today().year, type=int)
    return year if 2000 <= year <= 2100 else clock.today().year


@blueprint.route("")
@requires(Permission.FEE_REPORT_READ)
def report() -> ResponseReturnValue:
    with request_uow() as uow:
        found = fees.fee_report(uow, current_actor(), _year())
    return render_template("fees/report.html", report=found)


@blueprint.route("/export.csv")
@requires(Permission.FEE_REPORT_READ)
def export() -> ResponseReturnValue:
    """For the invoice: one line per place, semicolon-separated as Swedish spreadsheets read."""
    with request_uow() as uow:
        found = fees.fee_report(uow, current_actor(), _year())
    content = to_csv(
        ["municipality", "referral", "group", "group_start", "fee_sek"],
        (
            [line.municipality, line.referral_ref, line.group_name, line.group_start, line.fee_sek]
            for line in found.lines
        ),
        delimiter=";",
    )
    return Response(
        content,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=avgifter-{found.year}.csv"},
    )
