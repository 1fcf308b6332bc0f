"""The one rule for a dialable address: what a bridge can call over SIP or H.323.

The directory checks endpoint addresses with it and the booking rules check external participants'
addresses with it, so an address accepted for one is accepted for the other.
"""

from __future__ import annotations

import re

from confbridge.bridges.naming import MAX_ADDRESS_LENGTH
from confbridge.errors import FieldError
from confbridge.text import check_line

PROTOCOLS = ("sip", "h323")
SIP_RE = re.compile(r"^(sip:)?[A-Za-z0-9._+\-]+@[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")
H323_RE = re.compile(r"^([0-9]{1,32}|[A-Za-z0-9._\-]+(@[A-Za-z0-9.\-]+)?)$")


def address_matches(protocol: str | None, address: str) -> bool:
    """True when *address* is dialable with *protocol* (anything but "sip" is read as H.323)."""
    return bool((SIP_RE if protocol == "sip" else H323_RE).match(address))


def check_address(protocol: str | None, raw: str, field: str, errors: list[FieldError]) -> str:
    """The address trimmed; ``required``/``too_long_text``/``control_characters``, or
    ``bad_sip``/``bad_h323`` appended to *errors* when a bridge cannot dial it."""
    before = len(errors)
    address = check_line(raw, field, errors, max_len=MAX_ADDRESS_LENGTH)
    if address and len(errors) == before and not address_matches(protocol, address):
        code = "bad_sip" if protocol == "sip" else "bad_h323"
        errors.append(FieldError.of(field, code))
    return address
