"""The age bands statistics count people in: wide enough that none singles anyone out. The
purge's residues and the activity reports use the same ones."""

from __future__ import annotations

from datetime import date

from referral.db.outreach import AgeBand

# Programme A's groups take children of 7-18 in age ranges of about three years.
_CHILD_BANDS = ((9, "7_9"), (12, "10_12"), (15, "13_15"))


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


# Adults for the most part (domain.md §7): bands wide enough that none singles anyone out.
_ADULT_BANDS = ((17, "under_18"), (29, "18_29"), (49, "30_49"), (64, "50_64"))


def adult_age_band(birth_year: str | None, on: date) -> str:
    if not birth_year:
        return "unknown"
    age = on.year - int(birth_year)
    for upper, band in _ADULT_BANDS:
        if age <= upper:
            return band
    return "65_plus"
