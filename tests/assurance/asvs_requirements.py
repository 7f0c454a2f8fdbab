"""The OWASP ASVS 5.0.0 requirements this service answers for: level 2 throughout, and level 3
for data protection (V14) and security logging (V16), the access log being the product.

The ids and levels are OWASP's (ASVS 5.0.0, CC BY-SA 4.0); each title is our own few words,
not the standard's text, which is at https://github.com/OWASP/ASVS. A requirement a test
proves carries nothing more here: the tests name it with `@pytest.mark.asvs(...)` and
`tests/assurance/asvs_table.py` finds them. One no test proves yet says what is missing
(`missing`, may be empty), or why it cannot apply to this service (`not_applicable`).
"""

from __future__ import annotations

from dataclasses import dataclass

# ASVS's own chapter names.
CHAPTERS: dict[str, str] = {
    "V1": "Encoding and Sanitization",
    "V2": "Validation and Business Logic",
    "V3": "Web Frontend Security",
    "V4": "API and Web Service",
    "V5": "File Handling",
    "V6": "Authentication",
    "V7": "Session Management",
    "V8": "Authorization",
    "V9": "Self-contained Tokens",
    "V10": "OAuth and OIDC",
    "V11": "Cryptography",
    "V12": "Secure Communication",
    "V13": "Configuration",
    "V14": "Data Protection",
    "V15": "Secure Coding and Architecture",
    "V16": "Security Logging and Error Handling",
    "V17": "WebRTC",
}

# Chapters whose level-3 requirements are in scope (issue 19).
LEVEL_3_CHAPTERS = frozenset({"V14", "V16"})


@dataclass(frozen=True)
class Requirement:
    id: str
    level: int
    title: str
    missing: str = ""
    not_applicable: str = ""

    @property
    def chapter(self) -> str:
        return self.id.split(".")[0]


def _r(id: str, level: int, title: str, *, missing: str = "", na: str = "") -> Requirement:
    return Requirement(id, level, title, missing=missing, not_applicable=na)


_NO_UPLOADS = "the service accepts no file uploads"
_NOT_AN_AUTHORIZATION_SERVER = "the service is an OIDC client, not an authorization server"
_OWN_API_TOKENS = "the API takes its own API-client tokens, not OAuth access tokens"
_NOT_AN_OPENID_PROVIDER = "the service is an OIDC client, not an OpenID provider"
_NO_WEBSOCKETS = "no WebSockets"
_NO_WEBRTC = "no WebRTC"
_TLS_AT_THE_PROXY = "TLS ends at the reverse proxy: a deployment setting"
_NO_OUT_OF_BAND = "no out-of-band (SMS, phone, push) authentication"

REQUIREMENTS: tuple[Requirement, ...] = (
    # V1 Encoding and Sanitization
    _r("V1.1.1", 2, "Decode input once, before validating it"),
    _r("V1.1.2", 2, "Encode output last, or by the interpreter itself"),
    _r("V1.2.1", 1, "Output encoding fits its context (HTML, SVG, headers)"),
    _r("V1.2.2", 1, "Untrusted data in URLs encoded; only safe schemes"),
    _r("V1.2.3", 1, "Data built into JavaScript or JSON encoded"),
    _r("V1.2.4", 1, "Database queries parameterised"),
    _r(
        "V1.2.5",
        1,
        "No OS command injection",
        missing="the one subprocess (parallel audit verification) has a fixed argument list",
    ),
    _r("V1.2.6", 2, "No LDAP injection", na="no LDAP"),
    _r("V1.2.7", 2, "No XPath injection", na="no XML or XPath"),
    _r("V1.2.8", 2, "LaTeX processors run safely", na="no LaTeX (PDFs are drawn with fpdf2)"),
    _r("V1.2.9", 2, "Regular-expression metacharacters escaped"),
    _r("V1.3.1", 1, "WYSIWYG HTML input sanitised", na="no rich text (every field is plain text)"),
    _r("V1.3.2", 1, "No eval or dynamic code execution"),
    _r("V1.3.3", 2, "Data for dangerous contexts sanitised (e.g. spreadsheet formulas)"),
    _r("V1.3.4", 2, "User-supplied SVG sanitised", na=_NO_UPLOADS),
    _r(
        "V1.3.5", 2, "User-supplied Markdown, CSS or XSL made safe", na="no markup taken from users"
    ),
    _r(
        "V1.3.6",
        2,
        "Outbound calls allowlisted against SSRF",
        na="no request names an address the service calls; it calls only its configured "
        "identity providers",
    ),
    _r("V1.3.7", 2, "No templates built from untrusted input"),
    _r("V1.3.8", 2, "No JNDI injection", na="no Java or JNDI"),
    _r("V1.3.9", 2, "Data sent to memcache sanitised", na="no memcache"),
    _r("V1.3.10", 2, "Format strings safe from user input"),
    _r("V1.3.11", 2, "No SMTP or IMAP injection", na="the service sends no e-mail"),
    _r("V1.4.1", 2, "Memory-safe string handling", na="Python, no native code of its own"),
    _r("V1.4.2", 2, "Integer overflows prevented by range checks"),
    _r("V1.4.3", 2, "No dangling pointers or leaks", na="Python, no native code of its own"),
    _r("V1.5.1", 1, "XML parsers without external entities", na="the service parses no XML"),
    _r("V1.5.2", 2, "Untrusted data deserialised safely"),
    # V2 Validation and Business Logic
    _r(
        "V2.1.1",
        1,
        "Input validation rules documented",
        missing="a documentation item; see README, 'Input, requests and errors'",
    ),
    _r("V2.1.2", 2, "Rules for combined data items documented", missing="a documentation item"),
    _r("V2.1.3", 2, "Business-logic limits documented", missing="a documentation item"),
    _r("V2.2.1", 1, "All input validated positively (types, ranges, patterns)"),
    _r("V2.2.2", 1, "Validation enforced on the server"),
    _r("V2.2.3", 2, "Related data items checked together"),
    _r("V2.3.1", 1, "Business flows in order, no step skipped"),
    _r("V2.3.2", 2, "Business-logic limits enforced"),
    _r("V2.3.3", 2, "Business operations all or nothing"),
    _r("V2.3.4", 2, "Limited resources never double-booked"),
    _r("V2.4.1", 2, "Anti-automation against excessive calls"),
    # V3 Web Frontend Security
    _r("V3.2.1", 1, "Responses not rendered in the wrong context"),
    _r("V3.2.2", 1, "Text inserted as text, never as HTML, by scripts"),
    _r("V3.3.1", 1, "Cookies Secure, with a __Host- or __Secure- prefix"),
    _r("V3.3.2", 2, "Cookies' SameSite fits their purpose"),
    _r("V3.3.3", 2, "Cookies use the __Host- prefix"),
    _r("V3.3.4", 2, "Session cookie HttpOnly"),
    _r("V3.4.1", 1, "HSTS of a year or more, with subdomains"),
    _r("V3.4.2", 1, "CORS origin fixed or allowlisted"),
    _r("V3.4.3", 2, "Content-Security-Policy with object-src and base-uri 'none'"),
    _r("V3.4.4", 2, "nosniff on every response"),
    _r("V3.4.5", 2, "Referrer policy set"),
    _r("V3.4.6", 2, "CSP frame-ancestors on every response"),
    _r("V3.5.1", 1, "Anti-forgery tokens against CSRF"),
    _r(
        "V3.5.2",
        1,
        "CORS preflight cannot be bypassed where relied on",
        na="the service relies on CSRF tokens, not on CORS preflight",
    ),
    _r("V3.5.3", 1, "Sensitive actions never on GET"),
    _r("V3.5.4", 2, "Separate applications on separate host names", missing="a deployment matter"),
    _r("V3.5.5", 2, "postMessage checks origin and syntax", na="no postMessage"),
    _r(
        "V3.7.1",
        2,
        "Only supported client-side technologies",
        missing="plain HTML and a few small scripts, no plug-ins",
    ),
    _r("V3.7.2", 2, "Redirects off the site only to an allowlist"),
    # V4 API and Web Service
    _r("V4.1.1", 1, "Content-Type with charset on every body"),
    _r("V4.1.2", 2, "Only user-facing endpoints redirect HTTP to HTTPS", missing=_TLS_AT_THE_PROXY),
    _r(
        "V4.1.3",
        2,
        "Headers set by the proxy cannot be forged by users",
    ),
    _r(
        "V4.2.1",
        2,
        "HTTP message boundaries consistent (no smuggling)",
        missing="gunicorn and the reverse proxy",
    ),
    _r("V4.3.1", 2, "GraphQL query cost limited", na="no GraphQL"),
    _r("V4.3.2", 2, "GraphQL introspection off in production", na="no GraphQL"),
    _r("V4.4.1", 1, "WebSockets over TLS", na=_NO_WEBSOCKETS),
    _r("V4.4.2", 2, "WebSocket handshake checks Origin", na=_NO_WEBSOCKETS),
    _r("V4.4.3", 2, "WebSocket tokens follow the session rules", na=_NO_WEBSOCKETS),
    _r("V4.4.4", 2, "WebSocket tokens obtained through the HTTPS session", na=_NO_WEBSOCKETS),
    # V5 File Handling
    _r("V5.1.1", 2, "Upload types and sizes documented", na=_NO_UPLOADS),
    _r("V5.2.1", 1, "Upload size limited", na=_NO_UPLOADS),
    _r("V5.2.2", 1, "Uploaded content matches its type", na=_NO_UPLOADS),
    _r("V5.2.3", 2, "Archives checked before unpacking", na=_NO_UPLOADS),
    _r("V5.3.1", 1, "Uploaded files never executed", na=_NO_UPLOADS),
    _r(
        "V5.3.2",
        1,
        "File paths from trusted data, not user names",
        na="no request names a file (paths come only from the settings)",
    ),
    _r("V5.4.1", 2, "Downloads named in Content-Disposition, whatever the user sent"),
    _r("V5.4.2", 2, "Served file names encoded (RFC 6266)"),
    _r(
        "V5.4.3",
        2,
        "Files from untrusted sources scanned for malware",
        na="the service serves no file it did not make",
    ),
    # V6 Authentication
    _r(
        "V6.1.1",
        1,
        "Brute-force and lockout controls documented",
        missing="a documentation item; see README, 'What is here today' and 'Configuration'",
    ),
    _r(
        "V6.1.2",
        2,
        "Context-specific words for passwords documented",
        missing="a documentation item; the list is CONTEXT_WORDS in referral/auth/passwords.py, "
        "README gives examples",
    ),
    _r(
        "V6.1.3",
        2,
        "Every authentication pathway documented",
        missing="a documentation item; see README, 'What is here today' and 'Sign-in through the "
        "city's identity provider'",
    ),
    _r("V6.2.1", 1, "Passwords of at least 8 characters (15 advised)"),
    _r("V6.2.2", 1, "Users can change their password"),
    _r("V6.2.3", 1, "A change asks for the current and the new password"),
    _r("V6.2.4", 1, "Passwords checked against the 3000 most common"),
    _r("V6.2.5", 1, "No rules of composition"),
    _r("V6.2.6", 1, "Password fields masked (type=password)"),
    _r("V6.2.7", 1, "Paste and password managers allowed"),
    _r("V6.2.8", 1, "Passwords verified exactly as typed, never cut or folded"),
    _r("V6.2.9", 2, "Passwords of 64 characters and more allowed"),
    _r("V6.2.10", 2, "No forced periodic password change"),
    _r("V6.2.11", 2, "Context-specific words refused"),
    _r("V6.2.12", 2, "Breached passwords refused"),
    _r("V6.3.1", 1, "Credential stuffing and brute force held off"),
    _r("V6.3.2", 1, "No default accounts"),
    _r("V6.3.3", 2, "Multi-factor authentication required"),
    _r("V6.3.4", 2, "Every pathway as strong as documented"),
    _r("V6.4.1", 1, "Initial secrets random, expiring and used once"),
    _r(
        "V6.4.2",
        1,
        "No password hints or secret questions",
        missing="none exist",
    ),
    _r(
        "V6.4.3",
        2,
        "Password reset does not bypass MFA",
        missing="no password reset exists",
    ),
    _r(
        "V6.4.4",
        2,
        "A lost factor is replaced after identity proofing",
        missing="an administrator resets the second factor (`flask user reset-mfa`); the "
        "proofing happens outside the service",
    ),
    _r("V6.5.1", 2, "One-time codes usable once"),
    _r("V6.5.2", 2, "Low-entropy lookup secrets hashed", na="no lookup secrets (recovery codes)"),
    _r(
        "V6.5.3",
        2,
        "MFA secrets from a CSPRNG",
        missing="TOTP seeds come from pyotp's random_base32 (the secrets module)",
    ),
    _r(
        "V6.5.4",
        2,
        "Lookup and out-of-band codes of 20 bits or more",
        na="no lookup secrets or out-of-band codes",
    ),
    _r("V6.5.5", 2, "TOTP lives 30 s, out-of-band codes 10 min"),
    _r("V6.6.1", 2, "SMS or phone codes only with safeguards", na=_NO_OUT_OF_BAND),
    _r("V6.6.2", 2, "Out-of-band codes bound to their request", na=_NO_OUT_OF_BAND),
    _r("V6.6.3", 2, "Out-of-band codes rate limited", na=_NO_OUT_OF_BAND),
    _r("V6.8.1", 2, "Identity-provider users namespaced by provider"),
    _r("V6.8.2", 2, "Signatures on assertions always validated"),
    _r("V6.8.3", 2, "SAML assertions used once", na="no SAML (OpenID Connect only)"),
    _r("V6.8.4", 2, "Authentication strength from the provider (acr) checked"),
    # V7 Session Management
    _r(
        "V7.1.1",
        2,
        "Idle and absolute timeouts documented",
        missing="a documentation item; see README, 'What is here today' and 'Configuration'",
    ),
    _r(
        "V7.1.2",
        2,
        "Concurrent sessions per account documented",
        missing="a documentation item; see README, 'What is here today' (Concurrent sessions)",
    ),
    _r("V7.1.3", 2, "Federated session lifetimes documented", missing="a documentation item"),
    _r("V7.2.1", 1, "Session tokens verified on the server"),
    _r("V7.2.2", 1, "Session tokens dynamic, not static keys"),
    _r("V7.2.3", 1, "Reference tokens random, unique, 128 bits or more"),
    _r("V7.2.4", 1, "A new session token at every authentication"),
    _r("V7.3.1", 2, "Inactivity timeout"),
    _r("V7.3.2", 2, "Absolute session lifetime"),
    _r("V7.4.1", 1, "An ended session cannot be used again"),
    _r("V7.4.2", 1, "Disabling an account ends its sessions"),
    _r("V7.4.3", 2, "Other sessions end when a factor changes"),
    _r("V7.4.4", 2, "Logout visible on every signed-in page"),
    _r("V7.4.5", 2, "Administrators can end one user's or all sessions"),
    _r(
        "V7.5.1",
        2,
        "Re-authentication before changing authentication details",
        missing="a password change asks for the current password, not the second factor again; "
        "no other authentication detail can be changed by its holder",
    ),
    _r("V7.5.2", 2, "Users can see and end their active sessions"),
    _r("V7.6.1", 2, "Sessions with the identity provider end as documented"),
    _r("V7.6.2", 2, "Sessions created only by an explicit action"),
    # V8 Authorization
    _r("V8.1.1", 1, "Function and data access rules documented"),
    _r(
        "V8.1.2",
        2,
        "Field-level access rules documented",
        missing="a documentation item; what a partner sees is in README and services/sharing.py",
    ),
    _r("V8.2.1", 1, "Functions only with an explicit permission"),
    _r("V8.2.2", 1, "Records only with access to that record (no IDOR)"),
    _r("V8.2.3", 2, "Fields only with access to that field"),
    _r("V8.3.1", 1, "Authorization enforced on the server"),
    _r("V8.4.1", 2, "Organisations cannot reach each other's data"),
    # V9 Self-contained Tokens (the identity providers' ID tokens)
    _r("V9.1.1", 1, "Token signature validated before use"),
    _r("V9.1.2", 1, "Token algorithms from an allowlist, never none"),
    _r(
        "V9.1.3",
        1,
        "Token keys only from trusted, configured sources",
        missing="keys come from the configured issuer's discovery document; a token's own "
        "jku/x5u/jwk headers are not tested",
    ),
    _r("V9.2.1", 1, "Token validity times checked"),
    _r("V9.2.2", 2, "Token type and purpose checked"),
    _r("V9.2.3", 2, "Token audience checked"),
    _r(
        "V9.2.4",
        2,
        "Issuer restricts audiences when sharing a key",
        na="the service issues no self-contained tokens",
    ),
    # V10 OAuth and OIDC
    _r(
        "V10.1.1",
        2,
        "Tokens reach only the components that need them",
        missing="the ID token stays in the server-side session for the provider's logout",
    ),
    _r("V10.1.2", 2, "Code, state and nonce bound to the browser's attempt"),
    _r("V10.2.1", 2, "Code flow protected against CSRF (PKCE, state)"),
    _r(
        "V10.2.2",
        2,
        "Mix-up defence with several providers",
        missing="each provider has its own callback and its discovery document's issuer is "
        "checked in code",
    ),
    _r("V10.3.1", 2, "Resource server checks the token's audience", na=_OWN_API_TOKENS),
    _r("V10.3.2", 2, "Resource server decides on the token's claims", na=_OWN_API_TOKENS),
    _r("V10.3.3", 2, "Resource server identifies users by iss and sub", na=_OWN_API_TOKENS),
    _r("V10.3.4", 2, "Resource server checks authentication strength", na=_OWN_API_TOKENS),
    _r("V10.4.1", 1, "Redirect URIs matched exactly", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.2", 1, "Authorization codes used once", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.3", 1, "Authorization codes short-lived", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.4", 1, "Only the grants a client needs", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.5", 1, "Refresh token replay mitigated", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.6", 2, "PKCE required, never plain", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.7", 2, "Dynamic client registration made safe", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.8", 2, "Refresh tokens expire absolutely", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.9", 2, "Users can revoke tokens", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.10", 2, "Confidential clients authenticated", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.4.11", 2, "Clients given only the scopes they need", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.5.1", 2, "ID token replay stopped by the nonce"),
    _r("V10.5.2", 2, "Users identified by the provider's sub"),
    _r("V10.5.3", 2, "Provider metadata refused unless its issuer matches"),
    _r("V10.5.4", 2, "ID token audience is our client id"),
    _r("V10.5.5", 2, "Back-channel logout tokens validated", na="no back-channel logout"),
    _r("V10.6.1", 2, "Provider allows only safe response modes", na=_NOT_AN_OPENID_PROVIDER),
    _r("V10.6.2", 2, "Provider mitigates forced logout", na=_NOT_AN_OPENID_PROVIDER),
    _r("V10.7.1", 2, "User consents to each authorization", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.7.2", 2, "Consent prompt says what is granted", na=_NOT_AN_AUTHORIZATION_SERVER),
    _r("V10.7.3", 2, "Users review and revoke consents", na=_NOT_AN_AUTHORIZATION_SERVER),
    # V11 Cryptography
    _r(
        "V11.1.1",
        2,
        "Key management policy and lifecycle documented",
        missing="a documentation item; see README, 'Encryption at rest' and 'The access log'",
    ),
    _r("V11.1.2", 2, "Cryptographic inventory kept", missing="a documentation item"),
    _r(
        "V11.2.1",
        2,
        "Industry-validated crypto implementations",
        missing="pyca/cryptography, argon2-cffi and joserfc; no test says so",
    ),
    _r("V11.2.2", 2, "Crypto agility: keys replaced, data re-encrypted"),
    _r("V11.2.3", 2, "128 bits of security or more"),
    _r("V11.3.1", 1, "No ECB, no weak padding"),
    _r("V11.3.2", 1, "Only approved ciphers and modes (AES-GCM)"),
    _r("V11.3.3", 2, "Encrypted data authenticated"),
    _r("V11.4.1", 1, "Only approved hash functions"),
    _r("V11.4.2", 2, "Passwords stored with a slow password hash"),
    _r("V11.4.3", 2, "Integrity hashes collision-resistant, 256 bits"),
    _r(
        "V11.4.4",
        2,
        "Keys from passwords through a slow KDF",
        na="no key is derived from a password",
    ),
    _r("V11.5.1", 2, "Secrets from a CSPRNG with 128 bits or more"),
    _r("V11.6.1", 2, "Approved public-key algorithms"),
    # V12 Secure Communication
    _r("V12.1.1", 1, "Only TLS 1.2 and 1.3", missing=_TLS_AT_THE_PROXY),
    _r("V12.1.2", 2, "Only recommended cipher suites", missing=_TLS_AT_THE_PROXY),
    _r("V12.1.3", 2, "mTLS client certificates validated", na="no client certificates"),
    _r("V12.2.1", 1, "TLS for every external HTTP connection", missing=_TLS_AT_THE_PROXY),
    _r("V12.2.2", 1, "Publicly trusted certificates", missing=_TLS_AT_THE_PROXY),
    _r(
        "V12.3.1",
        2,
        "Encrypted inbound and outbound connections",
        missing="an identity provider must be https (tested); the database connection's TLS "
        "is the deployment's",
    ),
    _r(
        "V12.3.2",
        2,
        "TLS clients validate certificates",
        missing="requests verifies them by default; no test",
    ),
    _r("V12.3.3", 2, "TLS between internal services", missing="a deployment setting"),
    _r("V12.3.4", 2, "Internal TLS with trusted certificates", missing="a deployment setting"),
    # V13 Configuration
    _r("V13.1.1", 2, "Communication needs documented", missing="a documentation item"),
    _r("V13.2.1", 2, "Backend connections authenticated, no static credentials"),
    _r(
        "V13.2.2",
        2,
        "Backend accounts with least privilege",
        missing="the database role's privileges are the deployment's",
    ),
    _r("V13.2.3", 2, "No default credentials for services"),
    _r("V13.2.4", 2, "Outbound destinations allowlisted"),
    _r("V13.2.5", 2, "Server allowlist of what it may load"),
    _r(
        "V13.3.1",
        2,
        "Secrets in a secrets manager, not in code",
        missing="keys sit behind crypto.KeyProvider; today a local keyring file (KMS or Vault "
        "Transit planned)",
    ),
    _r("V13.3.2", 2, "Least-privilege access to secrets"),
    _r("V13.4.1", 1, "No source-control metadata exposed"),
    _r("V13.4.2", 2, "Debug modes off in production"),
    _r("V13.4.3", 2, "No directory listings"),
    _r("V13.4.4", 2, "HTTP TRACE not supported"),
    _r("V13.4.5", 2, "Documentation and monitoring endpoints not exposed"),
    # V14 Data Protection
    _r("V14.1.1", 2, "Sensitive data identified and classified"),
    _r(
        "V14.1.2", 2, "Protection requirements per level documented", missing="a documentation item"
    ),
    _r("V14.2.1", 1, "No sensitive data in URLs"),
    _r("V14.2.2", 2, "No sensitive data cached by server components"),
    _r("V14.2.3", 2, "No sensitive data sent to trackers"),
    _r("V14.2.4", 2, "Protection controls as documented (encryption at rest)"),
    _r("V14.2.5", 3, "Caches keep no sensitive dynamic content"),
    _r("V14.2.6", 3, "Minimum sensitive data returned, masked"),
    _r("V14.2.7", 3, "Outdated sensitive data deleted on schedule"),
    _r("V14.2.8", 3, "Metadata stripped from uploaded files", na=_NO_UPLOADS),
    _r(
        "V14.3.1",
        1,
        "Client-side data cleared when the session ends",
    ),
    _r("V14.3.2", 2, "Cache-Control: no-store on sensitive pages"),
    _r("V14.3.3", 2, "No sensitive data in browser storage"),
    # V15 Secure Coding and Architecture
    _r(
        "V15.1.1",
        1,
        "Remediation time frames for dependencies documented",
        missing="a documentation item",
    ),
    _r(
        "V15.1.2",
        2,
        "Inventory (SBOM) of third-party components",
        missing="pinned in pyproject.toml and explained in README, 'Why each library is here'; "
        "no SBOM",
    ),
    _r("V15.1.3", 2, "Resource-demanding functions documented", missing="a documentation item"),
    _r(
        "V15.2.1",
        1,
        "No component past its remediation deadline",
        missing="pip-audit runs in `make assurance` (tests/assurance/dependency_audit.py)",
    ),
    _r("V15.2.2", 2, "Defences for resource-demanding functions"),
    _r("V15.2.3", 2, "No test, sample or development features in production"),
    _r("V15.3.1", 1, "Only the needed fields returned"),
    _r("V15.3.2", 2, "Backend calls do not follow redirects unintentionally"),
    _r("V15.3.3", 2, "Mass assignment prevented"),
    _r(
        "V15.3.4",
        2,
        "Client address from trusted proxy fields",
    ),
    _r("V15.3.5", 2, "Strict types and comparisons"),
    _r("V15.3.6", 2, "No JavaScript prototype pollution"),
    _r("V15.3.7", 2, "HTTP parameter pollution defended"),
    # V16 Security Logging and Error Handling
    _r(
        "V16.1.1",
        2,
        "Log inventory documented",
        missing="a documentation item; see README, 'The access log'",
    ),
    _r("V16.2.1", 2, "Entries say when, where, who and what"),
    _r("V16.2.2", 2, "Synchronised time, UTC timestamps"),
    _r("V16.2.3", 2, "Logs go only where the inventory says"),
    _r("V16.2.4", 2, "Logs in a common format a log processor reads"),
    _r("V16.2.5", 2, "Sensitive data logged only as its protection allows"),
    _r("V16.3.1", 2, "Every authentication event logged"),
    _r("V16.3.2", 2, "Refusals and every access to personal data logged"),
    _r("V16.3.3", 2, "Security events and bypass attempts logged"),
    _r("V16.3.4", 2, "Unexpected errors and control failures logged"),
    _r("V16.4.1", 2, "Log entries encoded against injection"),
    _r("V16.4.2", 2, "Logs protected from reading and change"),
    _r(
        "V16.4.3",
        2,
        "Logs sent to a separate system",
        missing="only the signed checkpoints are mirrored (e.g. to syslog); the entries stay in "
        "the database",
    ),
    _r("V16.5.1", 2, "Generic error messages, no internals"),
    _r("V16.5.2", 2, "Secure operation when an external resource fails"),
    _r("V16.5.3", 2, "Fail closed, never open"),
    _r("V16.5.4", 3, "A last-resort handler for unhandled errors"),
    # V17 WebRTC
    _r("V17.1.1", 2, "TURN relays only to public addresses", na=_NO_WEBRTC),
    _r("V17.2.1", 2, "DTLS certificate key managed", na=_NO_WEBRTC),
    _r("V17.2.2", 2, "Approved DTLS-SRTP cipher suites", na=_NO_WEBRTC),
    _r("V17.2.3", 2, "SRTP authentication checked", na=_NO_WEBRTC),
    _r("V17.2.4", 2, "Media server survives malformed SRTP", na=_NO_WEBRTC),
    _r("V17.3.1", 2, "Signalling survives a flood", na=_NO_WEBRTC),
    _r("V17.3.2", 2, "Signalling survives malformed messages", na=_NO_WEBRTC),
)

BY_ID: dict[str, Requirement] = {requirement.id: requirement for requirement in REQUIREMENTS}
