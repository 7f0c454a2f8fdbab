"""Programme C pages (issue 14, domain.md §7): the morning registration desk (one screen for a
tablet: scan or type the card, see the window and the seed's commitment, issue a new card),
a shelter's list for tonight (check-in, no-shows), the coordinator's overview (shelters,
capacity, demand, the allocation), exclusions, and the public result of each morning's draw.

A card number identifies a person: it travels in a POST body only, the answer is rendered
(never flashed into the session cookie or put in a URL), and a typed number is never sent
back in a re-rendered form. The result page is public by design and names card numbers only;
it is readable in Romanian and Bulgarian too (referral.web.locale.MORE_LANGUAGES).

One blueprint, `nights` (referral.web.nights.common); importing its view modules here puts
their routes on it.
"""

from __future__ import annotations

from referral.web.nights import coordinator, desk, exclusions, result, shelters
from referral.web.nights.common import blueprint

__all__ = ["blueprint", "coordinator", "desk", "exclusions", "result", "shelters"]
