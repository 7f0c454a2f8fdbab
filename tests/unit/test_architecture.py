"""The layers stay apart (ARCHITECTURE.md): a forbidden import fails here, naming the module.

The import graph is read from the source (every import statement, also those inside a
function), so a lazy import cannot hide a dependency or a cycle.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("referral", "audit", "crypto", "config")


@cache
def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module → the project's modules it imports (`from pkg import submodule` counts as the
    submodule, not the package)."""
    modules = _modules()
    graph: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    imported.add(submodule if submodule in modules else node.module)
        graph[name] = frozenset(m for m in imported if m in modules and m != name)
    return graph


def _imports_of(prefix: str) -> dict[str, frozenset[str]]:
    return {
        name: targets
        for name, targets in import_graph().items()
        if name == prefix or name.startswith(prefix + ".")
    }


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _third_party_imports(module: str) -> set[str]:
    path = _modules()[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("library", "must_not_import"),
    [
        ("crypto", ("referral", "audit", "config")),
        ("audit", ("referral", "config")),
    ],
)
def test_the_libraries_know_nothing_of_the_application(
    library: str, must_not_import: tuple[str, ...]
) -> None:
    forbidden = {
        module: sorted(t for t in targets if _under(t, must_not_import))
        for module, targets in _imports_of(library).items()
    }
    assert {module: targets for module, targets in forbidden.items() if targets} == {}


def test_the_libraries_know_nothing_of_flask() -> None:
    for module in [*_imports_of("crypto"), *_imports_of("audit")]:
        assert "flask" not in _third_party_imports(module), module


def test_services_know_nothing_of_flask() -> None:
    offenders = [m for m in _imports_of("referral.services") if "flask" in _third_party_imports(m)]
    assert offenders == []


def test_no_two_modules_import_each_other_even_through_others() -> None:
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_graph_sees_lazy_imports_inside_functions() -> None:
    # A control: referral/__init__ wires the blueprints with imports inside create_app.
    assert "referral.web.casework" in import_graph()["referral"]


@pytest.mark.parametrize("module", ["referral.policy", "referral.rules", "referral.actors"])
def test_the_policy_and_the_rules_import_no_model_module(module: str) -> None:
    # They decide on values (roles, scopes, dates); the models depend on them, not back.
    assert sorted(t for t in import_graph()[module] if _under(t, ("referral.db",))) == []


def test_the_db_layer_knows_nothing_of_flask() -> None:
    # The request-scoped session is referral.request_scope's, on the web side.
    offenders = [m for m in _imports_of("referral.db") if "flask" in _third_party_imports(m)]
    assert offenders == []


# Flask-Limiter's storage backend is SQL by nature; it is storage, not a view.
VIEWS_THAT_MAY_USE_SQL = {"referral.web.limit_storage"}


def test_views_do_not_query_the_database_themselves() -> None:
    # Pages and API operations ask services; a view with SQL of its own would bypass the
    # policy's scope and the access log.
    views = [*_imports_of("referral.web"), *_imports_of("referral.api")]
    offenders = [
        m
        for m in views
        if m not in VIEWS_THAT_MAY_USE_SQL and "sqlalchemy" in _third_party_imports(m)
    ]
    assert offenders == []
