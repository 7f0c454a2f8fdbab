"""The API's flask-smorest classes: how a request body is read and how errors are documented.

Every API blueprint is a `Blueprint` from here, so that every route reads JSON through the
same bounded parser and documents the same problem responses.
"""

from __future__ import annotations

import http
import json
from typing import Any

import flask
import flask_smorest
from flask_babel import gettext as _
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from webargs.multidictproxy import MultiDictProxy

from referral.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

# Arrays and objects nested deeper than this are refused before any schema sees them: no
# request of this API needs more than a few levels, and a deep document costs the parser
# and the validators recursion (a thousand levels exhaust Python's stack).
MAX_JSON_DEPTH = 32


class NestedTooDeeply(DomainError):
    status = 400
    code = "nested_too_deeply"


class NumberTooLong(DomainError):
    """Python refuses to read an integer of more than 4 300 digits (a guard against slow
    conversions); no field of this API takes one."""

    status = 400
    code = "number_too_long"


def _too_deep() -> NestedTooDeeply:
    return NestedTooDeeply(
        _("JSON may nest arrays and objects at most %(depth)d levels deep.", depth=MAX_JSON_DEPTH)
    )


def _nested_deeper_than(value: object, limit: int) -> bool:
    # Iterative, so that measuring a deep document cannot itself exhaust the stack.
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class DuplicateKey(DomainError):
    status = 422
    code = "duplicate_key"


class RepeatedParameter(DomainError):
    status = 422
    code = "repeated_parameter"


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads keeps the last of two equal keys, where another reader (a proxy, a log,
    a firewall) may keep the first: a body saying two things is refused, naming the key."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(_("This key appears more than once in the request."), field=key)
        found[key] = value
    return found


def _parse_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return core.parse_json(body)  # webargs' own error for bytes that are not UTF-8
    return json.loads(text, object_pairs_hook=_refuse_duplicate_keys)


class BoundedJsonParser(FlaskParser):
    """webargs' Flask parser, refusing JSON nested deeper than MAX_JSON_DEPTH with a 400,
    and a parameter given twice where the API takes one (HTTP parameter pollution: webargs
    would take the first, a proxy or log in front might read the last) with a 422 naming
    it. A parameter that takes a list may be repeated, as its document says."""

    def load_querystring(self, req: flask.Request, schema: Schema) -> MultiDictProxy:
        arguments: MultiDictProxy = super().load_querystring(req, schema)
        taken = {field.data_key or name for name, field in schema.fields.items()}
        repeated = sorted(
            key
            for key in req.args
            if key in taken
            and key not in arguments.multiple_keys
            and len(req.args.getlist(key)) > 1
        )
        if repeated:
            raise RepeatedParameter(_("Give this parameter once."), field=repeated[0])
        return arguments

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        # The refusal is built only when it is raised: this runs on every JSON request.
        try:
            data = _parse_json(req.get_data(cache=True))
        except RecursionError:
            raise _too_deep() from None
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):
                raise  # webargs answers malformed JSON as before
            raise NumberTooLong(_("A number in the request has too many digits.")) from None
        if _nested_deeper_than(data, MAX_JSON_DEPTH):
            raise _too_deep()
        return data


class ProblemSchema(Schema):
    """An RFC 9457 problem document, as referral.web.errors.problem writes it."""

    type = fields.String(required=True, metadata={"description": "A URI naming the problem"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "Names the field or rule"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per field, when the problem is about fields"},
    )


class Api(flask_smorest.Api):  # type: ignore[misc]  # flask-smorest has no types
    """flask-smorest's Api, documenting every error response as a problem document."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # As flask-smorest registers one response per status code (referenced as e.g.
        # "NOT_FOUND"), but errors in the problem+json content type our handlers answer with.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # flask-smorest has no types
    """flask-smorest's Blueprint, with the bounded JSON parser and the error responses every
    operation can give: 401 (no fully verified session), 403 (the policy refuses), 429 (an
    API client's calls over its rate limit, or a public operation's per address), and for
    every write 400 (a session's CSRF token missing or wrong; a JSON body unreadable or too
    deeply nested) besides the 422 that flask-smorest documents for a body. 404 and 409
    depend on the operation: its view declares them with `alt_response(404,
    response=NOT_FOUND)` or `alt_response(409, response=CONFLICT)`.
    """

    ARGUMENTS_PARSER = BoundedJsonParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_problem_doc)

    @staticmethod
    def _prepare_problem_doc(
        doc: dict[str, Any], *args: Any, method: str = "get", **kwargs: Any
    ) -> dict[str, Any]:
        responses = doc.setdefault("responses", {})
        # By name: apispec then adds the (lazily registered) response to the components.
        responses.setdefault(401, http.HTTPStatus.UNAUTHORIZED.name)
        responses.setdefault(403, http.HTTPStatus.FORBIDDEN.name)
        responses.setdefault(429, http.HTTPStatus.TOO_MANY_REQUESTS.name)
        # A write without a body is refused too when a session cookie comes without the CSRF
        # token (referral.web.bearer.csrf_check), whether or not a bearer token comes with it.
        if method.lower() in WRITE_METHODS or "requestBody" in doc:
            responses.setdefault(400, http.HTTPStatus.BAD_REQUEST.name)
        return doc


NOT_FOUND = http.HTTPStatus.NOT_FOUND.name
CONFLICT = http.HTTPStatus.CONFLICT.name
SERVICE_UNAVAILABLE = http.HTTPStatus.SERVICE_UNAVAILABLE.name
