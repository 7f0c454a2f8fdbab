"""What a refused form sends back: what was typed stays in its own field (so that one wrong
digit is mended, not the whole number typed again), and nowhere else on the page: not in an
error message, the error summary, a flash or the title."""

from __future__ import annotations

import re


def typed_value_of(page: str, name: str) -> str | None:
    """The value the page's input `name` comes back with, or None without one."""
    field = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    if field is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', field.group(0))
    return value.group(1) if value else None


def outside_its_field(page: str, name: str) -> str:
    """The page without the input `name` itself: where a typed value must not appear."""
    return re.sub(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', "", page)
