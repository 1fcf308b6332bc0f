"""Untrusted text made safe for headers, iCalendar properties and parameters.

Titles, names and addresses come from users (and endpoint names from the directory).  The icalendar
library escapes TEXT values (``\\n``, ``;``, ``,``) and quotes parameters (RFC 6868), but it leaves a lone
CR or a NUL alone, and e-mail headers must never see CR/LF at all.  So single-line values lose every
control character, multi-line values keep only LF and TAB.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
_CONTROL_BUT_NEWLINE_TAB = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85]")
_SPACES = re.compile(r"[ \t]+")
_ATOM = r"[^@\s\x00-\x1f\x7f<>\"(),;:\\\[\]]+"
# A plain local@domain: nothing that could end a header, a mailto: URI or an iCalendar parameter.
EMAIL_RE = re.compile(rf"{_ATOM}@{_ATOM}\.[A-Za-z0-9-]+")


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
    return bool(address) and len(address or "") <= 254 and bool(EMAIL_RE.fullmatch(address or ""))


def require_email(address: str) -> str:
    """The address unchanged if it is a plain ``local@domain``; ValueError otherwise (never "cleaned":
    a mangled address would silently mail someone else)."""
    if not valid_email(address):
        raise ValueError(f"not a deliverable e-mail address: {one_line(address)!r}")
    return address
