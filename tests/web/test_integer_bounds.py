"""Every whole number the service takes in has bounds it checks before the number goes
anywhere (OWASP ASVS 5.0 V1.4.2): an API parameter or request-body field declares a minimum
and a maximum in /api/v1/openapi.json (which the API's own validation enforces: a value
outside is a 422 naming the field), and a page's form field carries a NumberRange with both
ends. tests/web/test_dpo.py sends the access log's page boundary past its bound, on the
DPO's page and through the API, and gets the 422: such a number once reached the database
and answered 500. A new field without bounds fails here, naming it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from wtforms import DecimalField, FloatField, IntegerField
from wtforms.fields.core import UnboundField
from wtforms.validators import NumberRange

import referral.web

# The widest a stored whole number can be: a signed 64-bit column.
LOWEST, HIGHEST = -(2**63), 2**63 - 1
NUMBER_FIELDS = (IntegerField, DecimalField, FloatField)


def _document(app: Flask) -> dict[str, Any]:
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec
    document: dict[str, Any] = spec.to_dict()
    return document


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = document["components"]["schemas"][name]
    return node


def _integers(
    document: dict[str, Any], node: Any, where: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each integer a schema takes, with where it sits, through references and arrays."""
    if not isinstance(node, dict):
        return
    node = _resolve(document, node)
    if node.get("type") == "integer":
        yield where, node
    for name, child in (node.get("properties") or {}).items():
        yield from _integers(document, child, f"{where}.{name}")
    if "items" in node:
        yield from _integers(document, node["items"], f"{where}[]")
    for key in ("allOf", "anyOf", "oneOf"):
        for child in node.get(key, []):
            yield from _integers(document, child, where)


def _integers_taken_in(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                found.extend(
                    _integers(document, parameter.get("schema"), f"{name} ?{parameter['name']}")
                )
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                found.extend(_integers(document, media.get("schema"), f"{name} body"))
    return found


def _unbounded(schema: dict[str, Any]) -> bool:
    low, high = schema.get("minimum"), schema.get("maximum")
    return low is None or high is None or low < LOWEST or high > HIGHEST


@pytest.mark.asvs("V1.4.2")
def test_every_whole_number_the_api_takes_declares_bounds_a_column_can_hold(app: Flask) -> None:
    taken = _integers_taken_in(_document(app))
    assert len(taken) >= 10, "the API's whole numbers were not found"
    assert [where for where, schema in taken if _unbounded(schema)] == []


@pytest.mark.asvs("V1.4.2")
def test_the_bounds_check_finds_a_number_without_a_maximum() -> None:
    assert _unbounded({"type": "integer", "minimum": 1})
    assert _unbounded({"type": "integer", "minimum": 1, "maximum": 2**63})
    assert not _unbounded({"type": "integer", "minimum": 0, "maximum": 1000})


def _forms() -> Iterator[type[FlaskForm]]:
    for module in pkgutil.walk_packages(referral.web.__path__, "referral.web."):
        importlib.import_module(module.name)
    seen: set[type] = set()
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        if form in seen:
            continue
        seen.add(form)
        pending.extend(form.__subclasses__())
        if form.__module__.startswith("referral."):
            yield form


def _number_fields_without_both_ends() -> list[str]:
    found = []
    for form in _forms():
        for name in dir(form):
            field = getattr(form, name, None)
            if not isinstance(field, UnboundField) or not issubclass(
                field.field_class, NUMBER_FIELDS
            ):
                continue
            ranges = [v for v in field.kwargs.get("validators", []) if isinstance(v, NumberRange)]
            if not any(r.min is not None and r.max is not None for r in ranges):
                found.append(f"{form.__module__}.{form.__name__}.{name}")
    return found


@pytest.mark.asvs("V1.4.2")
def test_every_number_a_page_takes_has_a_range_with_both_ends() -> None:
    numbers = [
        f"{form.__name__}.{name}"
        for form in _forms()
        for name in dir(form)
        if isinstance(getattr(form, name, None), UnboundField)
        and issubclass(getattr(form, name).field_class, NUMBER_FIELDS)
    ]
    assert len(numbers) >= 5, "the pages' number fields were not found"
    assert _number_fields_without_both_ends() == []
