"""One normalised status per endpoint, from what the bridge reports and what a probe says.

``offline`` unreachable by the probe · ``idle`` reachable, in no call · ``dialling`` being called ·
``in_call`` connected · ``muted`` connected with its microphone muted on the bridge · ``degraded``
connected with packet loss · ``failed`` the call failed or dropped and is not (yet) back ·
``unknown`` never checked.
"""

from __future__ import annotations

from confbridge.bridges.base import ParticipantInfo
from confbridge.i18n import N_

IN_CALL = frozenset({"in_call", "muted", "degraded"})
# Label per status (the console shows colour and label: colour is never the only signal).
LABELS = {
    "unknown": N_("Chưa rõ"),
    "offline": N_("Mất kết nối"),
    "idle": N_("Sẵn sàng"),
    "dialling": N_("Đang gọi"),
    "in_call": N_("Đang họp"),
    "muted": N_("Đang tắt tiếng"),
    "degraded": N_("Mất gói tin"),
    "failed": N_("Lỗi cuộc gọi"),
}


def call_status(leg_state: str, info: ParticipantInfo | None) -> str:
    """Status of an endpoint that has a wanted leg in an active conference."""
    if info is not None:
        if info.state == "connected":
            if info.packet_loss != "none":
                return "degraded"
            return "muted" if info.audio_muted else "in_call"
        if info.state == "dialling":
            return "dialling"
        return "failed"
    if leg_state == "connected":
        return "in_call"
    if leg_state in ("pending", "dialling"):
        return "dialling"
    if leg_state == "failed":
        return "failed"
    return "idle"


def idle_status(reachable: bool | None, previous: str) -> str:
    """Status of an endpoint in no active conference."""
    if reachable is False:
        return "offline"
    if reachable is True:
        return "idle"
    # No probe answer: keep what we knew, except call states, which ended with the call.
    return "idle" if previous in IN_CALL or previous in ("dialling", "failed", "unknown") else previous
