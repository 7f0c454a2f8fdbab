"""Canonical byte encoding of one audit-log entry.

The hash of an entry is only useful as evidence if the same entry always
produces the same bytes, and two different entries never do. This module fixes
that encoding. It is part of the audit log's on-disk format: changing it
invalidates every hash already stored, so treat any change as a format change
(new version, migration, re-verification of the old log with the old code).

Format
------
The entry is serialised as JSON (RFC 8259) and encoded as UTF-8, with:

* object keys sorted by Unicode code point (Python's ``str`` ordering; note
  that this differs from RFC 8785/JCS, which sorts by UTF-16 code units, for
  keys containing characters outside the Basic Multilingual Plane);
* no whitespace at all: separators are ``,`` and ``:``;
* non-ASCII characters written as raw UTF-8, not ``\\uXXXX`` escapes; only
  ``"``, ``\\`` and the control characters U+0000 to U+001F are escaped, always
  in the same way (Python's ``json`` encoder);
* integers in plain decimal, ``true``/``false`` for booleans, ``null`` for None;
* ``bytes`` (and ``bytearray``/``memoryview``) as a standard base64 string with
  padding;
* lists and tuples as JSON arrays, nested mappings as JSON objects with the
  same rules.

Rejected (``TypeError``/``ValueError``): floats (their text form is not
portable between implementations and audit fields have no need for them),
datetimes (convert them to an ISO-8601 UTC string first, the same string that
is stored, so that a database round trip cannot change the bytes), non-string
keys (JSON would silently turn ``1`` into ``"1"``), strings that are not valid
Unicode (lone surrogates), and any other type.

Why it is unambiguous
---------------------
JSON is a self-delimiting grammar: every string is enclosed in quotes and any
quote or backslash inside it is escaped, so no string content can be mistaken
for structure. ``{"a": "1,b"}`` encodes as ``{"a":"1,b"}`` while
``{"a": "1", "b": ""}`` encodes as ``{"a":"1","b":""}``; a value containing
``","b":"`` becomes ``"1\\",\\"b\\":\\""`` and stays one string. Keys of a
mapping are unique, and sorting them removes the only freedom JSON leaves
(member order); fixed separators and escaping remove the rest. Strings,
numbers, booleans and null have distinct spellings (``"1"`` vs ``1`` vs
``true``; ``null`` vs ``"null"`` vs an absent key). Decoding the bytes with any
JSON parser therefore gives back the fields exactly, so two different entries
cannot have the same encoding.

Two identifications are deliberate and harmless because the audit schema fixes
each field's type: a ``bytes`` value and the ``str`` holding its base64 text
encode the same, and so do a tuple and a list with the same items. Strings are
not Unicode-normalised: "å" as one code point and as "a" + combining ring are
different entries, which is what a tamper-evident log should say.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

__all__ = ["canonical_entry", "entry_hash", "row_encoder"]

# One encoder, built once: json.dumps() with non-default options builds a new
# JSONEncoder on every call, which dominates the cost for small entries. The
# encoder only ever sees plain dict/list/str/int/bool/None (see below), which
# cannot be circular, so its circular-reference check is off.
_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    check_circular=False,
)


def _build_fast_encoder() -> Callable[[object], str] | None:
    """Return the C encoder behind ``_ENCODER.encode``, built once, or None.

    ``JSONEncoder.encode`` constructs this same C encoder (``c_make_encoder``,
    with these same arguments) on every call; building it once removes about
    a fifth of the verifier's per-entry cost. It is an undocumented CPython
    detail, so it is used only if it exists, accepts these arguments, and
    produces exactly what ``_ENCODER.encode`` produces on a sample; otherwise
    the public ``_ENCODER.encode`` is used. Either way the bytes are the same.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    quote = getattr(json.encoder, "encode_basestring", None)
    if make is None or quote is None:
        return None
    try:
        c_encoder = make(
            None,  # markers: no circular check (inputs are fresh plain trees)
            _ENCODER.default,
            quote,
            None,  # indent
            _ENCODER.key_separator,
            _ENCODER.item_separator,
            _ENCODER.sort_keys,
            _ENCODER.skipkeys,
            _ENCODER.allow_nan,
        )

        def encode(obj: object) -> str:
            return "".join(c_encoder(obj, 0))

        sample = {"z": [1, True, None, {"b": '"\\\n\x00å\u2028', "a": -7}], "a": ""}
        if encode(sample) != _ENCODER.encode(sample):
            return None
    except Exception:  # any surprise means: use the public encoder
        return None
    return encode


_encode: Callable[[object], str] = _build_fast_encoder() or _ENCODER.encode
_PLAIN_VALUE_TYPES = frozenset({str, int, bool, type(None)})
_STR_TYPE = frozenset({str})


def canonical_entry(fields: Mapping[str, object]) -> bytes:
    """Return the canonical UTF-8 JSON bytes of one log entry.

    See the module docstring for the exact format and why it is unambiguous.
    Raises ``TypeError`` for unsupported value or key types and ``ValueError``
    for strings that cannot be encoded as UTF-8.
    """
    if (
        type(fields) is dict
        and _STR_TYPE.issuperset(map(type, fields))
        and _PLAIN_VALUE_TYPES.issuperset(map(type, fields.values()))
    ):
        # Fast path (the verifier's hot loop): a flat dict of exact plain types
        # needs no conversion; the encoder writes it exactly as it would write
        # the normalised copy.
        plain: object = fields
    elif isinstance(fields, Mapping):
        plain = _normalise_mapping(fields, "entry")
    else:
        raise TypeError(f"audit entry fields must be a mapping, not {type(fields).__name__}")
    text = _encode(plain)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            "audit entry contains a string that is not valid Unicode (a lone surrogate)"
        ) from exc


def entry_hash(fields: Mapping[str, object]) -> bytes:
    """Return SHA-256 of :func:`canonical_entry` (32 bytes)."""
    return hashlib.sha256(canonical_entry(fields)).digest()


def _normalise_mapping(fields: Mapping[Any, object], where: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in fields.items():
        if type(key) is not str:
            if isinstance(key, str):
                key = str.__str__(key)  # plain content of a str subclass (e.g. StrEnum)
            else:
                raise TypeError(
                    f"audit {where}: keys must be strings, got {type(key).__name__} {key!r}"
                )
        # Fast path for the common plain types; everything else goes through
        # _normalise_value, which also rejects what cannot be encoded safely.
        t = type(value)
        if t is str or t is int or t is bool or value is None:
            out[key] = value
        else:
            out[key] = _normalise_value(value, f"{where} field {key!r}")
    return out


def _normalise_value(value: object, where: str) -> object:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)  # plain int for IntEnum and other subclasses
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float):
        raise TypeError(f"audit {where}: floats are not allowed; store an integer or a string")
    if isinstance(value, datetime | date | time):
        raise TypeError(
            f"audit {where}: convert dates and times to an ISO-8601 UTC string before hashing"
        )
    if isinstance(value, Mapping):
        return _normalise_mapping(value, where)
    if isinstance(value, list | tuple):
        return [_normalise_value(item, where) for item in value]
    raise TypeError(f"audit {where}: values of type {type(value).__name__} are not allowed")


def row_encoder(field_names: Sequence[str]) -> Callable[[Sequence[object]], bytes]:
    """Return ``row -> canonical_entry(dict(zip(field_names, row)))``, faster.

    For the verifier, which encodes a million rows of one fixed shape: the keys and their
    sorted order are known once, so each row is written through a prepared template instead
    of building and sorting a dict. Only exact ``str``, ``int`` and ``None`` values take this
    path (the encoder's own escaping of strings, ``str(int)``, ``null``); a row holding any
    other type (bytes details, a bool) is handed to :func:`canonical_entry` itself. A property
    test checks that both give the same bytes.
    """
    names = list(field_names)
    order = sorted(range(len(names)), key=names.__getitem__)
    template = "{" + ",".join(_encode(names[i]) + ":%s" for i in order) + "}"
    quote = json.encoder.encode_basestring  # the quoting ensure_ascii=False uses
    width = len(names)

    def encode_row(row: Sequence[object]) -> bytes:
        values: list[Any] = [row[i] for i in order]
        parts = []
        for value in values:
            kind = type(value)
            if kind is str:
                parts.append(quote(value))
            elif value is None:
                parts.append("null")
            elif kind is int:
                parts.append(str(value))
            else:
                return canonical_entry(dict(zip(names, row[:width], strict=True)))
        try:
            return (template % tuple(parts)).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                "audit entry contains a string that is not valid Unicode (a lone surrogate)"
            ) from exc

    return encode_row
