"""axe-core in the page, held to WCAG 2.0, 2.1 and 2.2 at levels A and AA.

axe-playwright-python bundles axe.min.js, so nothing is fetched at test time. A finding
names the rule, the page, the width and the element, so a failure says what to fix where.
"""

from __future__ import annotations

from dataclasses import dataclass

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

WCAG_A_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")
# What the suite refuses: "moderate" and "minor" are reported by axe but left to review.
BLOCKING = frozenset({"serious", "critical"})
OPTIONS = {
    "runOnly": {"type": "tag", "values": list(WCAG_A_AA)},
    "resultTypes": ["violations"],
}


@dataclass(frozen=True)
class Finding:
    rule: str
    impact: str
    page: str
    width: int
    target: str
    help: str

    def __str__(self) -> str:
        where = f"{self.page} at {self.width} px"
        return f"{self.rule} ({self.impact}) on {where}: {self.target} – {self.help}"


def blocking_violations(page: Page, where: str) -> list[Finding]:
    """The serious and critical WCAG A/AA violations on the page as it is drawn now."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    # Injected once per page load, then run at each width (what axe_playwright_python's
    # Axe.run does, without parsing the script again for every run).
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    violations = page.evaluate("options => axe.run(document, options)", OPTIONS)["violations"]
    return [
        Finding(
            violation["id"],
            violation["impact"],
            where,
            width,
            " ".join(str(part) for part in node["target"]),
            violation["help"],
        )
        for violation in violations
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


def sideways_overflow(page: Page) -> int:
    """How many pixels the document scrolls sideways at the current width (WCAG 1.4.10);
    one pixel of rounding is forgiven."""
    overflow: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth - 1")
    return max(overflow, 0)
