"""What the suite's own modules may not do, read from their source and from importing them.

A module that reads the day when it is imported (`TODAY = clock.today()`) carries that day
into every test that runs after midnight in Stockholm, while the service reads the new one:
a CI pass that began at 23:50 UTC+1 refused a "due today" date as past. Each test reads the
day when it needs it, or stops the clock (`frozen_clock`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.fresh_interpreter import json_printed_by

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
# What reads the time, by the name it is called on: the standard library's clocks (the
# service's own is caught by importing, below, which also sees it read inside a helper).
CLOCK_READS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("time", "time")}

# Imports every test module with the service's clock replaced by a spy that notes the line
# of the suite that read it; prints them as JSON. The spy reads the stack: the suite's frames
# run outermost first.
IMPORT_EVERY_MODULE = """
import importlib, json, traceback
from pathlib import Path
from referral import clock

tests = Path.cwd() / "tests"
reads, real_now = set(), clock.now

def spy():
    ours = [
        f"{Path(frame.filename).relative_to(tests)}:{frame.lineno}"
        for frame in traceback.extract_stack()[:-1]
        if Path(frame.filename).is_relative_to(tests)
    ]
    # The statement that runs at import, and where it reached the clock (a helper, say);
    # a read outside the suite (the service's own) is not the suite's to answer for.
    if ours:
        reads.add(ours[0] if len(ours) == 1 else f"{ours[0]}, through {ours[-1]}")
    return real_now()

clock.now = spy
for path in sorted(tests.rglob("*.py")):
    importlib.import_module(".".join(path.relative_to(tests.parent).with_suffix("").parts))
print(json.dumps(sorted(reads)))
"""


def test_importing_the_test_modules_never_reads_the_services_clock() -> None:
    assert json_printed_by(IMPORT_EVERY_MODULE, timeout=300) == []


def _clock_reads_at_import(source: str) -> list[int]:
    """Lines of what runs when the module is imported (statements outside functions,
    decorators, default arguments, class bodies; not a lambda's body) that read a clock."""
    return [
        node.lineno
        for root in _run_at_import(ast.parse(source).body)
        for node in _outside_lambdas(root)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (_name_of(node.func.value), node.func.attr) in CLOCK_READS
    ]


def _run_at_import(statements: list[ast.stmt]) -> Iterator[ast.AST]:
    for statement in statements:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from statement.decorator_list
            yield from statement.args.defaults
            yield from (d for d in statement.args.kw_defaults if d is not None)
        elif isinstance(statement, ast.ClassDef):
            yield from statement.decorator_list
            yield from statement.bases
            yield from _run_at_import(statement.body)
        elif isinstance(statement, ast.If) and "__main__" in ast.unparse(statement.test):
            continue  # run as a script, never on import
        elif isinstance(statement, ast.If | ast.For | ast.While | ast.With | ast.Try):
            for name, value in ast.iter_fields(statement):
                if name in ("body", "orelse", "finalbody"):
                    yield from _run_at_import(value)
                elif name == "handlers":
                    for handler in value:
                        yield from _run_at_import(handler.body)
                elif isinstance(value, ast.AST):
                    yield value
                elif isinstance(value, list):
                    yield from (v for v in value if isinstance(v, ast.AST))
        else:
            yield statement


def _outside_lambdas(node: ast.AST) -> Iterator[ast.AST]:
    """`node` and what inside it runs with it: a lambda's body runs when it is called."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.Lambda):
            yield from _outside_lambdas(child)


def _name_of(node: ast.expr) -> str:
    """`datetime` for datetime and for datetime.datetime."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def test_no_test_module_reads_a_clock_of_the_standard_library_when_it_is_imported() -> None:
    found = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in _clock_reads_at_import(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_check_finds_what_runs_at_import_and_passes_what_runs_in_a_test() -> None:
    def found(source: str) -> list[int]:
        return _clock_reads_at_import(source.strip() + "\n")

    assert found("STARTED = time.time()") == [1]
    assert found("def helper(day=date.today()):\n    return day") == [1]
    assert found("class Case:\n    day = datetime.datetime.now()") == [2]
    assert found("try:\n    import x\nexcept ImportError:\n    DAY = date.today()") == [4]
    assert found("def test_it():\n    assert date.today()") == []
    assert found("FILL = {'day': lambda: date.today()}") == []
    assert found("if True:\n    def helper():\n        return time.time()") == []
    assert found("if __name__ == '__main__':\n    print(time.time())") == []
