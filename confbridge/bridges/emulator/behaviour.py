"""Simulated endpoints: how the far end of a dial behaves, set per address."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

BEHAVIOURS = ("answer", "busy", "no_answer", "rejected", "unreachable", "offline")
PACKET_LOSS = ("none", "warning", "critical")

# behaviour -> MCU disconnectReason when the dial fails
FAILURE_REASONS = {
    "busy": "busy",
    "no_answer": "noAnswer",
    "rejected": "rejected",
    "unreachable": "destinationUnreachable",
    "offline": "destinationUnreachable",
}


@dataclass
class Behaviour:
    """``answer_delay``: seconds of ringing before the outcome (answer or failure) is known.
    ``hangup_after``: seconds after answering when the far end hangs up (``remoteTeardown``)."""

    behaviour: str = "answer"
    answer_delay: float = 0.2
    hangup_after: float | None = None
    packet_loss: str = "none"

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Behaviour | None = None) -> Behaviour:
        current = asdict(base) if base else asdict(cls())
        unknown = set(data) - set(current) - {"address"}
        if unknown:
            raise ValueError(f"unknown behaviour keys: {sorted(unknown)}")
        current.update({k: v for k, v in data.items() if k != "address"})
        b = cls(**current)
        if b.behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}")
        if b.packet_loss not in PACKET_LOSS:
            raise ValueError(f"packet_loss must be one of {PACKET_LOSS}")
        b.answer_delay = float(b.answer_delay)
        if b.answer_delay < 0 or (b.hangup_after is not None and float(b.hangup_after) < 0):
            raise ValueError("delays must be >= 0")
        if b.hangup_after is not None:
            b.hangup_after = float(b.hangup_after)
        return b

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
