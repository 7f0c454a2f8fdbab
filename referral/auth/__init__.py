"""Authentication: passwords, TOTP second factor, server-side sessions and the login views."""
