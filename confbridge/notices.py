"""Timeline and alarm messages as codes with parameters, rendered in the reader's language.

Services store a *code* (``"leg.failed"``) and *params* (``{"endpoint": "UBND huyện Giang Thành",
"attempts": 3, "reason": {"code": "reason.busy"}}``); pages, the API and the live console render them
with :func:`render` in the reader's locale.  A parameter that is itself ``{"code": ..., "params": ...}``
is rendered recursively (a state label, a reason, a step name), so every word comes from the catalogue;
any other parameter (a meeting title, an endpoint name, a bridge's own error text) is shown as is.

Meetings and endpoints are named by their names, never by internal conference ids.  Rows written before
codes existed (``code`` is NULL) keep their stored ``message``: :func:`render` falls back to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confbridge.i18n import N_, translate

MESSAGES: dict[str, str] = {
    # Conference run states (one label each: the console, the timeline and the pages agree).
    "state.scheduled": N_("Đã lên lịch"),
    "state.starting": N_("Đang khởi tạo"),
    "state.live": N_("Đang diễn ra"),
    "state.ending": N_("Đang kết thúc"),
    "state.ended": N_("Đã kết thúc"),
    "state.failed": N_("Thất bại"),
    "state.missed": N_("Bị lỡ"),
    "state.cancelled": N_("Đã hủy"),
    "state.changed": N_("%(old)s → %(new)s"),
    "state.changed_why": N_("%(old)s → %(new)s: %(why)s"),
    # Why a run changed state.
    "why.occurrence_cancelled": N_("lịch họp bị hủy"),
    "why.end_passed": N_("đã quá giờ kết thúc khi chưa khởi tạo"),
    "why.no_bridge": N_("không có MCU “%(bridge)s” trong cấu hình"),
    "why.end_of_meeting": N_("hết giờ họp"),
    "why.operator_end": N_("kỹ thuật viên kết thúc"),
    "why.step_failed": N_("%(what)s: %(reason)s"),
    # Bridge-level steps.
    "step.create": N_("Tạo hội nghị"),
    "step.teardown": N_("Kết thúc hội nghị"),
    # Why a call ended or failed (codes the drivers report).
    "reason.busy": N_("máy bận"),
    "reason.no_answer": N_("không trả lời"),
    "reason.rejected": N_("từ chối"),
    "reason.unreachable": N_("không liên lạc được"),
    "reason.remote_hangup": N_("đầu xa ngắt"),
    "reason.operator": N_("kỹ thuật viên ngắt"),
    "reason.ended": N_("kết thúc"),
    "reason.other": N_("lý do khác"),
    "reason.in_conference": N_("đang trong hội nghị khác"),
    "reason.bridge_error": N_("MCU không trả lời"),
    # Planner.
    "run.scheduled": N_("Đã lên lịch «%(meeting)s»: khởi tạo lúc %(start)s, kết thúc lúc %(end)s trên %(bridge)s"),
    "run.no_bridge": N_("(không có MCU)"),
    "run.replanned": N_("Dời lịch: khởi tạo lúc %(start)s"),
    "run.end_changed": N_("Đổi giờ kết thúc: %(end)s"),
    "run.bridge_changed": N_("Đổi MCU: %(previous)s → %(bridge)s"),
    "run.retry_scheduled": N_("%(what)s: thử lại lúc %(at)s"),
    "run.launched_late": N_("Khởi tạo muộn %(seconds)s giây (máy lập lịch bị gián đoạn)"),
    "run.conference_vanished": N_("Hội nghị không còn trên MCU; tạo lại"),
    "run.extended": N_("Kéo dài thêm %(minutes)s phút"),
    "reconcile.adopted": N_("Đối soát: nhận lại hội nghị đã có trên MCU"),
    "reconcile.recreate": N_("Đối soát: hội nghị không còn trên MCU; tạo lại"),
    "reconcile.leftover": N_("Đối soát: xóa hội nghị còn sót %(name)s"),
    # Bridge calls (method names are the bridge's protocol, not words).
    "call.conference": N_("%(method)s %(name)s"),
    "call.participant": N_("%(method)s %(endpoint)s"),
    "call.dial": N_("%(method)s %(endpoint)s (%(address)s) lần %(attempt)s"),
    # Call legs.
    "leg.removed": N_("%(endpoint)s bị bỏ khỏi cuộc họp"),
    "leg.readded": N_("%(endpoint)s được thêm lại vào cuộc họp"),
    "leg.added": N_("%(endpoint)s được thêm vào cuộc họp"),
    "leg.retry": N_("Gọi %(endpoint)s lần %(attempt)s thất bại (%(reason)s); gọi lại lúc %(at)s"),
    "leg.failed": N_("Không gọi được %(endpoint)s sau %(attempts)s lần (%(reason)s)"),
    "leg.connected": N_("%(endpoint)s: đã kết nối"),
    "leg.resend": N_("Lệnh gọi %(endpoint)s chưa tới MCU; gửi lại"),
    "leg.vanished": N_("%(endpoint)s không còn trên MCU"),
    "leg.dropped": N_("%(endpoint)s: cuộc gọi bị rớt (%(reason)s)"),
    "leg.dialled_in": N_("%(endpoint)s (%(address)s) quay số vào hội nghị"),
    "leg.left": N_("%(endpoint)s đã rời hội nghị"),
    # Operator actions.
    "action.mute": N_("Tắt tiếng"),
    "action.unmute": N_("Bật tiếng"),
    "action.disconnect": N_("Ngắt"),
    "action.redial": N_("Gọi lại"),
    "action.on": N_("%(action)s: %(endpoint)s"),
    # Conference-wide controls (issue 13).
    "control.host": N_("Điểm cầu chính (ưu tiên hình): %(endpoint)s"),
    "control.no_host": N_("Bỏ điểm cầu chính"),
    "control.mute_all": N_("Tắt tiếng tất cả (%(count)s điểm cầu)"),
    "control.mute_all_but_host": N_("Tắt tiếng tất cả trừ điểm cầu chính (%(count)s điểm cầu)"),
    "control.unmute_all": N_("Bật tiếng tất cả (%(count)s điểm cầu)"),
    "control.layout": N_("Bố cục: %(layout)s"),
    "layout.voice-switched": N_("người đang nói toàn màn hình"),
    "layout.host-large": N_("điểm cầu chính khung lớn"),
    "layout.grid": N_("lưới đều"),
    # Alarms.
    "alarm.dial_failed": N_("Không gọi được %(endpoint)s vào «%(meeting)s» sau %(attempts)s lần: %(reason)s"),
    "alarm.call_dropped": N_("%(endpoint)s rớt khỏi «%(meeting)s» (%(reason)s)"),
    "alarm.launch_missed": N_("Hội nghị «%(meeting)s» không được khởi tạo: đã quá giờ kết thúc khi máy lập lịch "
                              "bị gián đoạn"),
    "alarm.launch_failed": N_("Không khởi tạo được hội nghị «%(meeting)s»: %(reason)s"),
    "alarm.no_bridge": N_("Hội nghị «%(meeting)s»: không có MCU “%(bridge)s” trong cấu hình"),
    "alarm.launch_late": N_("Hội nghị «%(meeting)s» khởi tạo muộn %(seconds)s giây"),
    "alarm.bridge_auth": N_("MCU %(bridge)s từ chối đăng nhập: %(reason)s"),
    "alarm.bridge_capacity": N_("MCU %(bridge)s hết tài nguyên: %(reason)s"),
    "alarm.bridge_unreachable": N_("Không kết nối được MCU %(bridge)s: %(reason)s"),
    "alarm.packet_loss": N_("%(endpoint)s: mất gói tin nghiêm trọng trong «%(meeting)s»"),
    "alarm.endpoint_offline": N_("%(endpoint)s mất kết nối; có lịch họp «%(meeting)s» lúc %(at)s"),
    "alarm.scheduler_heartbeat": N_("Máy lập lịch không gia hạn từ %(at)s (máy %(holder)s)"),
    "alarm.preflight_failed": N_("Gọi thử trước «%(meeting)s»: %(endpoint)s không sẵn sàng (%(reason)s)"),
    "alarm.mail_failed": N_("Không gửi được thư mời tới %(recipient)s: %(error)s"),
    "alarm.blackout_overlap": N_("«%(meeting)s» lúc %(at)s trùng lịch ngừng phục vụ của %(target)s "
                                 "(%(start)s–%(end)s: %(reason)s)"),
    "alarm.approval_overdue": N_("Cuộc họp «%(meeting)s» vẫn chờ phê duyệt lúc %(at)s (giờ chuẩn bị): "
                                 "không khởi tạo"),
}


def coded(code: str, **params: Any) -> dict[str, Any]:
    """A nested parameter: ``coded("reason.busy")`` renders as that message in the reader's language."""
    if code not in MESSAGES:
        raise KeyError(f"unknown notice code {code!r}")
    return {"code": code, "params": params} if params else {"code": code}


def reason(value: str | None) -> Any:
    """A call-end reason: a known code (``busy``) becomes a translated label; any other text stays as is."""
    key = f"reason.{value or 'other'}"
    return coded(key) if key in MESSAGES else value


def render(code: str | None, params: Mapping[str, Any] | None, locale: str | None, fallback: str = "") -> str:
    """The message for *code* in *locale*; *fallback* (the stored text of an old row) when there is no code."""
    if not code or code not in MESSAGES:
        return fallback
    values = {key: _value(value, locale) for key, value in (params or {}).items()}
    return translate(locale, MESSAGES[code], **values)


def _value(value: Any, locale: str | None) -> Any:
    if isinstance(value, Mapping) and "code" in value:
        return render(str(value["code"]), value.get("params"), locale, fallback=str(value["code"]))
    return value
