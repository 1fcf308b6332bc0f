"""Cisco TelePresence MCU fault codes and their normalised errors.

The table follows the fault codes of Cisco's *TelePresence MCU Remote Management API* guide (2.9;
codes 1–20 and 101–105 verbatim from the vendor guides, 17+ cross-checked) and the driver's error model
(``confbridge.bridges.base``).  ``FAULT_STRINGS`` are the strings the emulator sends; the driver never
relies on a string except where the vendor guide says clients do.
"""

from __future__ import annotations

from confbridge.bridges.base import (
    AlreadyExists,
    AuthError,
    BridgeError,
    CapacityExceeded,
    InvalidRequest,
    NotFound,
    TransientError,
    Unsupported,
)

# code -> (normalised error class, device fault string)
FAULTS: dict[int, tuple[type[BridgeError], str]] = {
    1: (Unsupported, "method not supported"),
    2: (AlreadyExists, "duplicate conference name"),
    3: (AlreadyExists, "duplicate participant name"),
    4: (NotFound, "no such conference or auto attendant"),
    5: (NotFound, "no such participant"),
    6: (CapacityExceeded, "too many conferences"),
    7: (CapacityExceeded, "too many participants"),
    8: (InvalidRequest, "no conference name or auto attendant id supplied"),
    9: (InvalidRequest, "no participant name supplied"),
    10: (InvalidRequest, "no participant address supplied"),
    11: (InvalidRequest, "invalid start time specified"),
    12: (InvalidRequest, "invalid end time specified"),
    13: (InvalidRequest, "invalid PIN specified"),
    14: (AuthError, "authorization failed"),
    15: (AuthError, "insufficient privileges"),
    16: (InvalidRequest, "invalid enumerateID value"),
    17: (CapacityExceeded, "port reservation failure"),
    18: (AlreadyExists, "duplicate numeric ID"),
    19: (InvalidRequest, "unsupported protocol"),
    20: (InvalidRequest, "unsupported participant type"),
    25: (CapacityExceeded, "new port limit lower than currently active"),
    35: (InvalidRequest, "string is too long"),
    101: (InvalidRequest, "missing parameter"),
    102: (InvalidRequest, "invalid parameter"),
    103: (InvalidRequest, "malformed parameter"),
    104: (InvalidRequest, "mismatched parameters"),
    105: (InvalidRequest, "request too large"),
    # 201 is ambiguous ("operation failed"): retried once by the driver, then fatal (R.3).
    201: (TransientError, "operation failed"),
    202: (Unsupported, "product needs its activation feature key"),
    203: (TransientError, "too many asynchronous requests"),
}

AUTH_CODES = frozenset({14, 15})
OPERATION_FAILED = 201


def fault_string(code: int, parameter: str | None = None) -> str:
    """The device's fault string for *code* (101–103 name the parameter: ``"missing parameter - pin"``)."""
    text = FAULTS[code][1] if code in FAULTS else "operation failed"
    return f"{text} - {parameter}" if parameter else text


def error_for_fault(code: int, fault_text: str, method: str) -> BridgeError:
    """The normalised error for an XML-RPC fault returned by *method* (unknown codes: ``BridgeError``)."""
    cls, _ = FAULTS.get(code, (BridgeError, ""))
    # The fault string comes from the device and never contains our credentials.
    return cls(f"{method}: MCU fault {code} ({fault_text})", fault_code=code)
