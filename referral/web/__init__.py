"""The HTML side: one blueprint per area, plus access control, errors and headers."""
