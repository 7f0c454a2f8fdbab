"""The public result of each morning's draw (no login, card numbers only), by day, in Swedish,
English, Romanian and Bulgarian; each address may ask PUBLIC_RESULT_RATE times."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from referral import clock
from referral.clock import local_day
from referral.request_scope import request_uow
from referral.services.nights import published, registration
from referral.web.access import public
from referral.web.limits import PUBLIC_RESULT_RATE, limiter
from referral.web.nights.common import blueprint, day_or_404, labels, settings

# The languages of the public result page, each named in its own language.
RESULT_LANGUAGES = (("sv", "Svenska"), ("en", "English"), ("ro", "Română"), ("bg", "Български"))


def _result_page(day: date) -> ResponseReturnValue:
    config = settings()
    now = clock.now()
    state: registration.DeskState | None = None
    with request_uow() as uow:
        shown = published.published_day(uow, config, day)
        if day == local_day(now) and shown.seed is None:
            # Today, before the run: the commitment is drawn (once) and shown from now on.
            state = registration.desk_state(uow, config, now)
    commitment = state.commitment if state is not None else shown.commitment
    return render_template(
        "nights/result.html",
        shown=shown,
        state=state,
        commitment=commitment,
        day=day,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        is_today=day == local_day(now),
        languages=[
            (
                code,
                name,
                url_for(
                    request.endpoint or "nights.result", **(request.view_args or {}), lang=code
                ),
            )
            for code, name in RESULT_LANGUAGES
        ],
        example_card=(shown.lines[0].card_number.replace(" ", "") if shown.lines else "12345671"),
        **labels(),
    )


@blueprint.route("/result")
@public
@limiter.limit(PUBLIC_RESULT_RATE)
def result() -> ResponseReturnValue:
    return _result_page(local_day(clock.now()))


@blueprint.route("/result/<day>")
@public
@limiter.limit(PUBLIC_RESULT_RATE)
def result_of_day(day: str) -> ResponseReturnValue:
    return _result_page(day_or_404(day))
