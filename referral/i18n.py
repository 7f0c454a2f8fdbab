"""Translation markers for code outside the web layer (services, domain errors).

Messages are written in English and translated when raised: in a request, into the user's
language; in a CLI command, they stay English.
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext, ngettext

_ = gettext
_l = lazy_gettext

__all__ = ["_", "_l", "ngettext"]
