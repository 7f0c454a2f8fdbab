"""README's OWASP ASVS 5.0 table: each requirement in scope, the tests that prove it and its
status, grouped by chapter with counts.

The tests are found by reading the test files' source (fast enough for a unit test to check
that README is current): every `pytest.mark.asvs(...)` on a test function, a method of a test
class, a test class, or a module's `pytestmark`. A marker anywhere else (inside
`pytest.param(marks=...)`, say) is refused rather than silently missed. `--collect` also asks
pytest which tests it collects (`--asvs-json`, tests/asvs_marker.py) and fails when the two
disagree.

Run: .venv/bin/python -m tests.assurance.asvs_table             # rewrite README's table
     .venv/bin/python -m tests.assurance.asvs_table --check     # exit 1 when README is stale
     .venv/bin/python -m tests.assurance.asvs_table --collect   # and cross-check with pytest
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from tests.assurance.asvs_requirements import CHAPTERS, REQUIREMENTS, Requirement

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
README = ROOT / "README.md"
START = "<!-- asvs-table:start -->"
END = "<!-- asvs-table:end -->"
COMMAND = ".venv/bin/python -m tests.assurance.asvs_table"

TESTED = "tested"
NO_TEST_YET = "no test yet"
NOT_APPLICABLE = "not applicable"


class MarkerError(Exception):
    """A marker the table cannot attribute to a test, or one written so it cannot be read."""


# --- Finding the markers ------------------------------------------------------------------


def _is_asvs_mark(node: ast.AST) -> bool:
    """`pytest.mark.asvs(...)` or `mark.asvs(...)`."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    owner = node.func.value
    return node.func.attr == "asvs" and (
        (isinstance(owner, ast.Attribute) and owner.attr == "mark")
        or (isinstance(owner, ast.Name) and owner.id == "mark")
    )


def _ids_of(call: ast.Call, where: str) -> list[str]:
    if call.keywords or not call.args:
        raise MarkerError(f"{where}: asvs takes requirement ids as plain strings, e.g. 'V6.2.1'")
    ids = []
    for argument in call.args:
        if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
            raise MarkerError(f"{where}: asvs takes requirement ids as plain strings")
        ids.append(argument.value)
    return ids


def _marks_in(nodes: Iterable[ast.AST], where: str) -> tuple[list[str], set[int]]:
    """The ids of asvs calls among decorators (or a pytestmark value), and the calls' ids."""
    ids: list[str] = []
    seen: set[int] = set()
    for node in nodes:
        elements = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
        for element in elements:
            if _is_asvs_mark(element):
                assert isinstance(element, ast.Call)
                ids += _ids_of(element, f"{where}, line {element.lineno}")
                seen.add(id(element))
    return ids, seen


def _pytestmark(body: list[ast.stmt]) -> list[ast.AST]:
    return [
        statement.value
        for statement in body
        if isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets)
    ]


def _is_test_function(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")


def markers_in_source(source: str, path: str) -> dict[str, list[str]]:
    """Each marked test function of one file, as `path::name` (or `path::Class::name`)."""
    tree = ast.parse(source, filename=path)
    found: dict[str, list[str]] = {}
    module_ids, placed = _marks_in(_pytestmark(tree.body), f"{path}: pytestmark")

    def add(test_id: str, ids: list[str]) -> None:
        if ids:
            found[test_id] = sorted(set(found.get(test_id, []) + ids))

    for node in tree.body:
        if _is_test_function(node):
            assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            ids, calls = _marks_in(node.decorator_list, f"{path}::{node.name}")
            placed |= calls
            add(f"{path}::{node.name}", module_ids + ids)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_ids, calls = _marks_in(
                [*node.decorator_list, *_pytestmark(node.body)], f"{path}::{node.name}"
            )
            placed |= calls
            for method in node.body:
                if _is_test_function(method):
                    assert isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                    ids, calls = _marks_in(
                        method.decorator_list, f"{path}::{node.name}::{method.name}"
                    )
                    placed |= calls
                    add(f"{path}::{node.name}::{method.name}", module_ids + class_ids + ids)
    stray = [n for n in ast.walk(tree) if _is_asvs_mark(n) and id(n) not in placed]
    if stray:
        lines = ", ".join(str(getattr(n, "lineno", "?")) for n in stray)
        raise MarkerError(
            f"{path}, line {lines}: put @pytest.mark.asvs(...) on a test function, a test "
            "class or the module's pytestmark, where the ASVS table can see it"
        )
    return found


# The slow assurance modules, collected only when named (`make assurance` names them).
NAMED_MODULES = ("assurance/api_fuzz.py", "assurance/sql_injection.py")


def test_files(tests: Path = TESTS) -> Iterator[Path]:
    """The files pytest collects by its default patterns (pyproject sets no others), and the
    assurance modules `make assurance` names."""
    for path in sorted(tests.rglob("*.py")):
        if path.name.startswith("test_") or path.name.endswith("_test.py"):
            yield path
    for name in NAMED_MODULES:
        if (tests / name).exists():  # a test's sample suite has none
            yield tests / name


def markers(tests: Path = TESTS, root: Path = ROOT) -> dict[str, list[str]]:
    """Every marked test function of the suite and the ids it names."""
    found: dict[str, list[str]] = {}
    for path in test_files(tests):
        relative = path.relative_to(root).as_posix()
        found.update(markers_in_source(path.read_text(encoding="utf-8"), relative))
    return found


def collected_markers() -> dict[str, list[str]]:
    """What pytest itself collects: the cross-check for the source reading above. The named
    modules are collected on their own: given beside `tests`, pytest takes a file inside it as
    already given and leaves it out."""
    found: dict[str, list[str]] = {}
    for paths in ([], [(TESTS / name).relative_to(ROOT).as_posix() for name in NAMED_MODULES]):
        found.update(_collected(paths))
    return found


def _collected(paths: list[str]) -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "asvs.json"
        completed = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "--collect-only", "-q"),
                f"--asvs-json={output}",
                *paths,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if not output.exists():
            raise MarkerError("pytest collected nothing:\n" + completed.stdout + completed.stderr)
        document: dict[str, list[str]] = json.loads(output.read_text(encoding="utf-8"))
        return document


# --- Checking them ------------------------------------------------------------------------


def unknown_ids(marks: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Per test, the ids it names that are not requirements in scope (typos, or out of scope)."""
    known = {requirement.id for requirement in REQUIREMENTS}
    return {
        test: [i for i in ids if i not in known]
        for test, ids in marks.items()
        if any(i not in known for i in ids)
    }


def tests_by_requirement(marks: Mapping[str, list[str]]) -> dict[str, list[str]]:
    by_id: dict[str, list[str]] = defaultdict(list)
    for test, ids in sorted(marks.items()):
        for requirement_id in ids:
            by_id[requirement_id].append(test)
    return dict(by_id)


def contradictions(marks: Mapping[str, list[str]]) -> list[str]:
    """Requirements a test proves that the list still calls missing or not applicable."""
    proven = tests_by_requirement(marks)
    return [
        f"{r.id} is proven by {', '.join(proven[r.id])} but listed as "
        + ("not applicable" if r.not_applicable else f"missing ({r.missing})")
        for r in REQUIREMENTS
        if r.id in proven and (r.not_applicable or r.missing)
    ]


def status(requirement: Requirement, tests: list[str]) -> str:
    if tests:
        return TESTED
    if requirement.not_applicable:
        return f"{NOT_APPLICABLE}: {requirement.not_applicable}"
    if requirement.missing:
        return f"{NO_TEST_YET}: {requirement.missing}"
    return NO_TEST_YET


# --- Rendering ----------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _test_name(test_id: str) -> str:
    """`tests/web/test_login.py::test_x` shown as `web/test_login.py::test_x`."""
    return "`" + test_id.removeprefix("tests/") + "`"


def render(marks: Mapping[str, list[str]]) -> str:
    """The block between README's markers, markers included."""
    proven = tests_by_requirement(marks)
    chapters: dict[str, list[Requirement]] = defaultdict(list)
    for requirement in REQUIREMENTS:
        chapters[requirement.chapter].append(requirement)

    def counts(requirements: list[Requirement]) -> tuple[int, int, int]:
        kinds = [status(r, proven.get(r.id, [])).split(":")[0] for r in requirements]
        return kinds.count(TESTED), kinds.count(NO_TEST_YET), kinds.count(NOT_APPLICABLE)

    lines = [
        START,
        f"<!-- Generated by `{COMMAND}` from the tests' @pytest.mark.asvs markers and "
        "tests/assurance/asvs_requirements.py: edit those, not this table. -->",
        "",
        "| chapter | tested | no test yet | not applicable |",
        "|---|---:|---:|---:|",
    ]
    for chapter, requirements in chapters.items():
        tested, missing, not_applicable = counts(requirements)
        lines.append(f"| {chapter} {CHAPTERS[chapter]} | {tested} | {missing} | {not_applicable} |")
    tested, missing, not_applicable = counts(list(REQUIREMENTS))
    lines += [f"| **all {len(REQUIREMENTS)}** | {tested} | {missing} | {not_applicable} |", ""]
    for chapter, requirements in chapters.items():
        tested, missing, not_applicable = counts(requirements)
        lines += [
            "<details>",
            f"<summary>{chapter} {CHAPTERS[chapter]}: {tested} tested, {missing} no test yet, "
            f"{not_applicable} not applicable</summary>",
            "",
            "| id | L | requirement (our words) | tests | status |",
            "|---|---|---|---|---|",
        ]
        for r in requirements:
            tests = proven.get(r.id, [])
            shown = "<br>".join(_test_name(t) for t in tests)
            lines.append(
                f"| {r.id} | {r.level} | {_cell(r.title)} | {shown} | {_cell(status(r, tests))} |"
            )
        lines += ["", "</details>", ""]
    lines.append(END)
    return "\n".join(lines)


def replace_block(readme: str, block: str) -> str:
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise MarkerError(f"README.md has no {START} … {END} block to fill")
    return readme[:start] + block + readme[end + len(END) :]


def current_block(readme: str) -> str:
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise MarkerError(f"README.md has no {START} … {END} block")
    return readme[start : end + len(END)]


def problems(marks: Mapping[str, list[str]]) -> list[str]:
    found = [
        f"{test} names {', '.join(ids)}: no such requirement in scope"
        for test, ids in unknown_ids(marks).items()
    ]
    return found + contradictions(marks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when README is stale")
    parser.add_argument(
        "--collect", action="store_true", help="also compare with what pytest collects"
    )
    arguments = parser.parse_args(argv)
    marks = markers()
    if arguments.collect:
        collected = collected_markers()
        if collected != marks:
            print("the source and pytest's collection disagree:", file=sys.stderr)
            for test in sorted(set(marks) | set(collected)):
                if marks.get(test) != collected.get(test):
                    print(
                        f"  {test}: source {marks.get(test)}, pytest {collected.get(test)}",
                        file=sys.stderr,
                    )
            return 1
    found = problems(marks)
    if found:
        print("\n".join(found), file=sys.stderr)
        return 1
    readme = README.read_text(encoding="utf-8")
    block = render(marks)
    if arguments.check:
        if current_block(readme) != block:
            print(f"README's ASVS table is stale: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    updated = replace_block(readme, block)
    if updated != readme:
        README.write_text(updated, encoding="utf-8")
        print("README.md: ASVS table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
