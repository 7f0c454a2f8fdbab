"""README's OWASP ASVS table stays true: it is the one the tests' markers make today, every
marker names a requirement in scope, and the list itself is well formed. The markers are read
from the test files' source, so this runs in a second, not a collection of the whole suite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.assurance import asvs_table
from tests.assurance.asvs_requirements import CHAPTERS, LEVEL_3_CHAPTERS, REQUIREMENTS

ID = re.compile(r"V(\d+)\.(\d+)\.(\d+)")


@pytest.fixture(scope="module")
def marks() -> dict[str, list[str]]:
    return asvs_table.markers()


def test_every_marker_names_a_requirement_in_scope(marks: dict[str, list[str]]) -> None:
    assert marks, "no test carries @pytest.mark.asvs: the scan found nothing"
    assert asvs_table.unknown_ids(marks) == {}, "a typo, or a requirement outside the scope"


def test_a_requirement_a_test_proves_is_not_also_listed_as_missing_or_not_applicable(
    marks: dict[str, list[str]],
) -> None:
    assert asvs_table.contradictions(marks) == []


def test_readmes_table_is_the_one_the_markers_make(marks: dict[str, list[str]]) -> None:
    readme = asvs_table.README.read_text(encoding="utf-8")
    assert asvs_table.current_block(readme) == asvs_table.render(marks), (
        f"README's ASVS table is stale: run {asvs_table.COMMAND}"
    )


def test_the_requirements_are_unique_in_asvs_order_and_within_the_scope() -> None:
    ids = [r.id for r in REQUIREMENTS]
    assert len(ids) == len(set(ids))
    numbers = []
    for requirement in REQUIREMENTS:
        match = ID.fullmatch(requirement.id)
        assert match, requirement.id
        numbers.append(tuple(int(n) for n in match.groups()))
        assert requirement.chapter in CHAPTERS
        assert requirement.level in (1, 2) or (
            requirement.level == 3 and requirement.chapter in LEVEL_3_CHAPTERS
        ), requirement.id
        assert requirement.title and len(requirement.title) <= 80, requirement.id
        assert not (requirement.missing and requirement.not_applicable), requirement.id
    assert numbers == sorted(numbers)


def _scan(tmp_path: Path, source: str) -> dict[str, list[str]]:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(source, encoding="utf-8")
    return asvs_table.markers(tmp_path / "tests", tmp_path)


def test_the_scan_sees_markers_on_functions_methods_classes_and_modules(tmp_path: Path) -> None:
    found = _scan(
        tmp_path,
        "import pytest\n"
        "from pytest import mark\n"
        "pytestmark = [pytest.mark.asvs('V8.2.1')]\n"
        "@pytest.mark.parametrize('x', [1, 2])\n"
        "@pytest.mark.asvs('V6.2.1', 'V6.2.12')\n"
        "def test_one(x): ...\n"
        "async def test_two(): ...\n"
        "@mark.asvs('V3.4.1')\n"
        "class TestHeaders:\n"
        "    @pytest.mark.asvs('V3.4.4')\n"
        "    def test_three(self): ...\n"
        "def helper(): ...\n",
    )
    assert found == {
        "tests/test_sample.py::test_one": ["V6.2.1", "V6.2.12", "V8.2.1"],
        "tests/test_sample.py::test_two": ["V8.2.1"],
        "tests/test_sample.py::TestHeaders::test_three": ["V3.4.1", "V3.4.4", "V8.2.1"],
    }


@pytest.mark.parametrize(
    "source",
    [
        "import pytest\n"
        "@pytest.mark.parametrize('x', [pytest.param(1, marks=pytest.mark.asvs('V6.2.1'))])\n"
        "def test_one(x): ...\n",
        "import pytest\nIDS = ('V6.2.1',)\n@pytest.mark.asvs(*IDS)\ndef test_one(): ...\n",
        "import pytest\n@pytest.mark.asvs('V6.2.1')\ndef helper(): ...\n",
    ],
    ids=["inside pytest.param", "ids not written out", "on a helper"],
)
def test_a_marker_the_table_could_not_attribute_is_refused(tmp_path: Path, source: str) -> None:
    with pytest.raises(asvs_table.MarkerError):
        _scan(tmp_path, source)
