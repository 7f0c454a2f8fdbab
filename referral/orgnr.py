"""Swedish organisation numbers (organisationsnummer): validated with the Luhn check."""

from __future__ import annotations

from organisationsnummer.organisationsnummer import (
    Organisationsnummer,
    OrganisationsnummerException,
)

from referral.errors import InvalidInput
from referral.i18n import _


def normalise_org_number(raw: str) -> str:
    """Return NNNNNN-NNNN, or raise InvalidInput naming the field and the rule."""
    cleaned = raw.strip()
    try:
        parsed = Organisationsnummer(cleaned)
    except OrganisationsnummerException:
        raise InvalidInput(
            _("Not a valid Swedish organisation number (ten digits that pass the Luhn check)."),
            field="org_number",
        ) from None
    if parsed.is_personnummer():
        # The library also accepts a sole trader's personnummer; an organisation here must
        # have an organisation number of its own, and we never store a personnummer in clear.
        raise InvalidInput(
            _("A personal identity number is not an organisation number."), field="org_number"
        )
    formatted: str = parsed.format(True)
    return formatted
