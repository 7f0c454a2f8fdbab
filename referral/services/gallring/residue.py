"""What statistics keep of a purged unit: programme, period, format, age band, gender,
district, country of origin and how it ended. Never identity: bands, not birth dates; a
month, not a day."""

from __future__ import annotations

from dataclasses import dataclass

# (The bands are the reports' too: services.age_bands.)
from referral.services.age_bands import adult_age_band, child_age_band, youth_age_band


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


__all__ = ["Residue", "adult_age_band", "child_age_band", "youth_age_band"]
