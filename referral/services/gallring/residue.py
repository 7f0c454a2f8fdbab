"""What statistics keep of a purged unit: programme, period, format, age band, gender,
district, country of origin and how it ended. Never identity: bands, not birth dates; a
month, not a day."""

from __future__ import annotations

from dataclasses import dataclass

from referral.db.outreach import AgeBand

# Programme A's groups take children of 7-18 in age ranges of about three years.
_CHILD_BANDS = ((9, "7_9"), (12, "10_12"), (15, "13_15"))


@dataclass(frozen=True)
class Residue:
    programme: str | None = None
    period: str | None = None  # YYYY-MM
    format: str | None = None
    age_band: str | None = None
    gender: str | None = None
    district_id: str | None = None
    country_of_origin: str | None = None
    outcome: str | None = None


def child_age_band(age: int) -> str:
    """A child's age band for Programme A's statistics (7-9, 10-12, 13-15, 16-18)."""
    for upper, band in _CHILD_BANDS:
        if age <= upper:
            return band
    return "16_18"


def youth_age_band(age: int | None) -> str:
    """A youth's age band, the bands the anonymous encounters are counted in (Programme B)."""
    if age is None:
        return AgeBand.UNKNOWN.value
    if age < 15:
        return AgeBand.UNDER_15.value
    if age < 18:
        return AgeBand.FROM_15_TO_17.value
    return AgeBand.FROM_18_TO_20.value
