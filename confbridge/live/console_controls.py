"""The console's words for conference-wide controls: mute all, extend by 15/30/60 minutes, end, host.

Kept apart from ``confbridge.live.console``'s own strings so each stays small; msgids are Vietnamese,
``{t}``-style slots are filled in by the script.
"""

from __future__ import annotations

from confbridge.i18n import N_, translate

EXTEND_CHOICES = (15, 30, 60)  # minutes offered by the console's extend buttons

CONTROL_STRINGS: dict[str, str] = {
    "mute_all": N_("Tắt tiếng tất cả (trừ điểm cầu chính)"),
    "unmute_all": N_("Bật tiếng tất cả"),
    "extend_by": N_("+{m} phút"),
    "end_now": N_("Kết thúc ngay"),
    "confirm_extend": N_("Kéo dài hội nghị «{t}» thêm {m} phút, đến {e}?"),
    "confirm_end": N_("Kết thúc hội nghị «{t}» ngay bây giờ? Mọi điểm cầu sẽ bị ngắt."),
    "confirm_yes": N_("Đồng ý, thực hiện"),
    "confirm_no": N_("Không, quay lại"),
    "confirm_title": N_("Xác nhận thao tác"),
    "extended_to": N_("Đã kéo dài «{t}» đến {e}"),
    "host": N_("Chủ trì"),
    "controls": N_("Điều khiển hội nghị"),
}


def control_strings(locale: str) -> dict[str, str]:
    """The control words in *locale* (merged into the console's strings)."""
    return {key: translate(locale, msgid) for key, msgid in CONTROL_STRINGS.items()}
