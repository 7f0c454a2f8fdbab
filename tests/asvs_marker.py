"""The `asvs` marker: a test names the OWASP ASVS 5.0 requirements it proves, e.g.
`@pytest.mark.asvs("V6.2.1", "V6.2.12")`, and README's requirement table lists it under them
(`tests/assurance/asvs_table.py`).

Loaded by tests/conftest.py. `--asvs-json PATH` writes, for every collected test function
that carries the marker, its ids as JSON (parametrized cases once, under the function's id),
which `asvs_table.py --collect` compares with what it reads from the test files' source.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

MARKER = "asvs"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--asvs-json",
        metavar="PATH",
        default=None,
        help="write each collected test function's ASVS requirement ids to PATH as JSON",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*ids): the OWASP ASVS 5.0 requirements this test proves (README, ASVS table)",
    )


def function_id(nodeid: str) -> str:
    """A test's node id without its parameters: one id per test function."""
    return nodeid.split("[", 1)[0]


def pytest_collection_finish(session: pytest.Session) -> None:
    path = session.config.getoption("--asvs-json")
    if not path:
        return
    found: dict[str, set[str]] = {}
    for item in session.items:
        ids = {str(i) for mark in item.iter_markers(MARKER) for i in mark.args}
        if ids:
            found.setdefault(function_id(item.nodeid), set()).update(ids)
    document = {test: sorted(ids) for test, ids in sorted(found.items())}
    Path(path).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
