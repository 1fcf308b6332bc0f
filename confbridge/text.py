"""The one place for text rules: what a valid e-mail address is, which control characters a user's text
may hold, and how untrusted text is made safe for headers, iCalendar properties and parameters.

It sits at the bottom of the import graph (it imports only ``confbridge.errors``), so the booking rules, the accounts,
the booking form and the mailer all use the same definitions: an address accepted at booking is an
address the mailer will send to.

Titles, names and addresses come from users (and endpoint names from the directory).  The icalendar
library escapes TEXT values (``\\n``, ``;``, ``,``) and quotes parameters (RFC 6868), but it leaves a lone
CR or a NUL alone, and e-mail headers must never see CR/LF at all.  So single-line values lose every
control character, multi-line values keep only LF and TAB.
"""

from __future__ import annotations

import re

from confbridge.errors import FieldError

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
_CONTROL_BUT_NEWLINE_TAB = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85]")
_SPACES = re.compile(r"[ \t]+")
_ATOM = r"[^@\s\x00-\x1f\x7f<>\"(),;:\\\[\]]+"
# A plain local@domain: nothing that could end a header, a mailto: URI or an iCalendar parameter.
EMAIL_RE = re.compile(rf"{_ATOM}@{_ATOM}\.[A-Za-z0-9-]+")


# What a person may type: single-line text refuses every control character (``_CONTROL``, with the
# Unicode line separators, which split a line in some readers); multi-line text also allows TAB, LF, CR.
_REFUSED_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85]")
MAX_EMAIL_LENGTH = 254


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """True when *value* holds a control character a person should not type (line breaks allowed in
    multi-line text)."""
    return bool((_REFUSED_IN_TEXT if multiline else _CONTROL).search(value))


def check_line(value: str, name: str, errors: list[FieldError], *, max_len: int,
               required: bool = True) -> str:
    """A single line of user text: trimmed, no control characters, bounded; problems appended to
    *errors* as codes (``required``, ``too_long_text``, ``control_characters``)."""
    text = value.strip()
    if required and not text:
        errors.append(FieldError.of(name, "required"))
    elif len(text) > max_len:
        errors.append(FieldError.of(name, "too_long_text", max_length=max_len))
    elif has_control_characters(text):
        errors.append(FieldError.of(name, "control_characters"))
    return text


def check_text(value: str, name: str, errors: list[FieldError], *, max_len: int) -> str:
    """Multi-line user text: bounded, line breaks and TAB allowed, CRLF and CR become LF."""
    if len(value) > max_len:
        errors.append(FieldError.of(name, "too_long_text", max_length=max_len))
    elif has_control_characters(value, multiline=True):
        errors.append(FieldError.of(name, "control_characters"))
    return value.replace("\r\n", "\n").replace("\r", "\n")


def check_email(value: str, name: str, errors: list[FieldError]) -> str:
    """An address a person typed, trimmed; ``invalid_email`` unless the mailer will send to it."""
    address = value.strip()
    if not valid_email(address):
        errors.append(FieldError.of(name, "invalid_email"))
    return address


def one_line(value: str | None, limit: int = 300) -> str:
    """A single line: control characters (CR, LF, NUL, …) become spaces, runs of spaces collapse."""
    text = _SPACES.sub(" ", _CONTROL.sub(" ", value or "")).strip()
    return text[:limit]


def multi_line(value: str | None, limit: int = 8000) -> str:
    """Several lines joined by LF: CRLF and lone CR become LF, other control characters are dropped."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = _CONTROL_BUT_NEWLINE_TAB.sub("", text).replace("\u2029", "\n")
    return text.strip()[:limit]


def valid_email(address: str | None) -> bool:
    # fullmatch, not match with "$": "$" also matches before a trailing LF.
    return bool(address) and len(address or "") <= MAX_EMAIL_LENGTH and bool(EMAIL_RE.fullmatch(address or ""))


def require_email(address: str) -> str:
    """The address unchanged if it is a plain ``local@domain``; ValueError otherwise (never "cleaned":
    a mangled address would silently mail someone else)."""
    if not valid_email(address):
        raise ValueError(f"not a deliverable e-mail address: {one_line(address)!r}")
    return address
