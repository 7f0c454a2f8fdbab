"""What the suite's own modules may not do, read from their source.

A module that reads the day when it is imported (`TODAY = clock.today()`) carries that day
into every test that runs after midnight in Stockholm, while the service reads the new one:
a CI pass that began at 23:50 UTC+1 refused a "due today" date as past. Each test reads the
day when it needs it, or stops the clock (`frozen_clock`).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# What reads the clock: the service's own and the standard library's.
CLOCK_READS = {("clock", "today"), ("clock", "now"), ("date", "today"), ("datetime", "now")}


def _clock_reads_at_import(source: str) -> list[int]:
    """Lines of the module's own statements (not inside a function or class) that read the
    clock, decorators and default arguments included."""
    tree = ast.parse(source)
    lines = []
    for statement in tree.body:
        evaluated: list[ast.AST] = [statement]
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            # Only what runs at import: decorators, defaults, base classes.
            evaluated = list(statement.decorator_list)
            if isinstance(statement, ast.ClassDef):
                evaluated += statement.bases
            else:
                evaluated += statement.args.defaults + [
                    d for d in statement.args.kw_defaults if d is not None
                ]
        for root in evaluated:
            lines += [
                node.lineno
                for node in _run_at_import(root)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (node.func.value.id, node.func.attr) in CLOCK_READS
            ]
    return lines


def _run_at_import(node: ast.AST) -> list[ast.AST]:
    """`node` and what inside it runs with it: a lambda's body runs when it is called."""
    found = [node]
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.Lambda):
            found += _run_at_import(child)
    return found


def test_no_test_module_reads_the_day_when_it_is_imported() -> None:
    found = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in _clock_reads_at_import(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_check_finds_a_day_read_at_import_and_passes_one_read_in_a_test() -> None:
    at_import = "from referral import clock\nTODAY = clock.today()\n"
    in_a_default = "def helper(day=clock.today()):\n    return day\n"
    in_a_test = "def test_it():\n    assert clock.today()\n"
    in_a_lambda = "FILL = {'day': lambda: clock.today()}\n"
    assert _clock_reads_at_import(at_import) == [2]
    assert _clock_reads_at_import(in_a_default) == [1]
    assert _clock_reads_at_import(in_a_test) == []
    assert _clock_reads_at_import(in_a_lambda) == []
