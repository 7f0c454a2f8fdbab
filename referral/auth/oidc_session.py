"""What the Flask session remembers of a sign-in through an identity provider.

Its own module so that the password views (which carry the marker across the TOTP step and
turn it into the offer of the provider's logout) and the provider views share the names
without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The attempt under way: provider, state, nonce, PKCE verifier, when it began, where to go
# after, and the hash of an invitation the browser brought.
PENDING = "oidc_pending"
# Who signed this session in: the provider's key and the ID token (the hint its logout wants).
SIGNED_IN_WITH = "oidc_signed_in_with"
# A subject waiting to be linked to an account in use until the account's own TOTP code is
# accepted (oidc_accounts.PendingLink: provider, subject, the invitation's hash, the account).
# Only the /mfa step reads it; the new session that step starts drops it, as does any login.
PENDING_LINK = "oidc_pending_link"
# After our logout: the provider whose own logout the login page offers.
PROVIDER_LOGOUT = "oidc_provider_logout"


def kept_across_steps(session: Mapping[str, Any]) -> dict[str, Any]:
    """What survives the new session the TOTP step starts: the provider that signed in."""
    return {SIGNED_IN_WITH: session[SIGNED_IN_WITH]} if SIGNED_IN_WITH in session else {}
