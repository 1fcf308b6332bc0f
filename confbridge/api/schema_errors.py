"""webargs/marshmallow validation failures as field-error codes, so a schema refusal reads in the caller's
language like a service refusal (marshmallow's own messages are English text)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from confbridge.errors import FieldError

# marshmallow's default messages (fields and validators) -> (code, params from the match).
_FIXED: dict[str, str] = {
    "Missing data for required field.": "required",
    "Field may not be null.": "not_null",
    "Unknown field.": "unknown_field",
    "Not a valid integer.": "not_integer",
    "Not a valid number.": "not_number",
    "Not a valid boolean.": "not_boolean",
    "Not a valid datetime.": "not_datetime",
    "Not a valid date.": "not_date",
    "Not a valid string.": "not_string",
    "Not a valid list.": "not_list",
    "Not a valid mapping type.": "not_object",
    "Invalid input type.": "not_object",
    "Invalid value.": "invalid_value",
}
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, dict[str, Any]]]]] = [
    (re.compile(r"Longer than maximum length (\d+)\.$"),
     lambda m: ("too_long_text", {"max_length": int(m.group(1))})),
    (re.compile(r"Shorter than minimum length (\d+)\.$"),
     lambda m: ("too_short_text", {"min_length": int(m.group(1))})),
    (re.compile(r"Length must be between (\d+) and (\d+)\.$"),
     lambda m: ("length_between", {"low": int(m.group(1)), "high": int(m.group(2))})),
    (re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     lambda m: ("out_of_range", {"low": m.group(1), "high": m.group(2)})),
    (re.compile(r"Must be greater than or equal to (\S+)\.$"), lambda m: ("at_least", {"low": m.group(1)})),
    (re.compile(r"Must be less than or equal to (\S+)\.$"), lambda m: ("at_most", {"high": m.group(1)})),
    (re.compile(r"Must be one of: (.*)\.$"), lambda m: ("one_of", {"choices": m.group(1)})),
]


def _code(message: str) -> tuple[str, dict[str, Any]]:
    if message in _FIXED:
        return _FIXED[message], {}
    for pattern, build in _PATTERNS:
        match = pattern.match(message)
        if match:
            return build(match)
    return "invalid_value", {}  # a message we do not know: a generic, translated refusal


def _walk(messages: Any, prefix: str, out: list[FieldError]) -> None:
    if isinstance(messages, dict):
        for key, value in messages.items():
            _walk(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(messages, list):
        if messages and all(isinstance(v, str) for v in messages):
            code, params = _code(messages[0])
            out.append(FieldError.of(prefix or "body", code, **params))
        else:
            _walk(dict(enumerate(messages)), prefix, out)
    elif isinstance(messages, str):
        code, params = _code(messages)
        out.append(FieldError.of(prefix or "body", code, **params))


def schema_field_errors(messages: dict[str, Any]) -> list[FieldError]:
    """``{"json": {"field": ["message"]}, "query": {...}}`` -> field errors with codes and parameters."""
    out: list[FieldError] = []
    for per_field in messages.values():
        _walk(per_field, "", out)
    return out
