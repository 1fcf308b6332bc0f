"""The technician console page (``/console``): the endpoint wall, live conferences, alarms, timeline.

The page is a shell; its ES module (``web/static/console/console.js``) gets a live token, opens the
WebSocket and renders the snapshot and the events.  The page's own strings come from ``STRINGS`` by the
user's locale (Vietnamese first) and are handed to the script through ``data-`` attributes on one
element (the CSP forbids inline scripts).
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue

from confbridge.api.common import get_settings
from confbridge.monitor.status import LABELS
from confbridge.public_urls import live_url
from confbridge.ui.i18n import select_locale
from confbridge.ui.roles import page_roles

bp = Blueprint("console", __name__)

STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Bảng điều khiển kỹ thuật", "wall": "Điểm cầu",
        "conferences": "Hội nghị đang diễn ra / sắp diễn ra",
        "alarms": "Cảnh báo", "timeline": "Diễn biến",
        "no_conferences": "Không có hội nghị nào trong 60 phút tới.",
        "no_alarms": "Không có cảnh báo.", "connected_of": "{c}/{n} đã kết nối", "all_connected_after":
        "Đủ điểm cầu sau {t}", "ack": "Xác nhận", "acked": "Đã xác nhận", "mute": "Tắt tiếng",
        "unmute": "Bật tiếng", "disconnect": "Ngắt", "redial": "Gọi lại", "conn_connecting": "Đang kết nối…",
        "conn_live": "Trực tuyến", "conn_lost": "Mất kết nối — thử lại sau {s} giây",
        "conn_refused": "Không kết nối được máy chủ trực tiếp {u} (bị từ chối hoặc không trả lời) — thử lại sau "
        "{s} giây", "conn_resync":
        "Đang đồng bộ lại…", "action_ok": "Đã gửi lệnh: {a}", "action_failed": "Lệnh thất bại: {m}",
        "state_scheduled": "Đã lên lịch", "state_starting": "Đang khởi động", "state_live": "Đang họp",
        "state_ending": "Đang kết thúc", "state_ended": "Đã kết thúc", "state_failed": "Thất bại",
        "state_missed": "Bị lỡ", "state_cancelled": "Đã hủy", "leg_pending": "Chờ gọi",
        "leg_dialling": "Đang gọi",
        "leg_connected": "Đã kết nối", "leg_disconnected": "Đã ngắt", "leg_failed": "Gọi thất bại",
        "leg_removed": "Đã bỏ", "attempts": "lần gọi", "severity_critical": "Nghiêm trọng",
        "severity_major": "Quan trọng", "severity_minor": "Nhẹ", "severity_info": "Thông tin",
    },
    "en": {
        "title": "Technician console", "wall": "Endpoints", "conferences": "Live and upcoming conferences",
        "alarms": "Alarms", "timeline": "Timeline", "no_conferences": "No conference in the next 60 minutes.",
        "no_alarms": "No alarms.", "connected_of": "{c}/{n} connected", "all_connected_after":
        "All connected after {t}", "ack": "Acknowledge", "acked": "Acknowledged", "mute": "Mute",
        "unmute": "Unmute", "disconnect": "Disconnect", "redial": "Redial", "conn_connecting": "Connecting…",
        "conn_live": "Live", "conn_lost": "Connection lost — retrying in {s} s",
        "conn_refused": "Cannot connect to the live server {u} (refused or not answering) — retrying in {s} s",
        "conn_resync": "Resyncing…",
        "action_ok": "Command sent: {a}", "action_failed": "Command failed: {m}",
        "state_scheduled": "Scheduled", "state_starting": "Starting", "state_live": "Live",
        "state_ending": "Ending", "state_ended": "Ended", "state_failed": "Failed", "state_missed": "Missed",
        "state_cancelled": "Cancelled", "leg_pending": "Waiting", "leg_dialling": "Dialling",
        "leg_connected": "Connected", "leg_disconnected": "Disconnected", "leg_failed": "Dial failed",
        "leg_removed": "Removed", "attempts": "attempts", "severity_critical": "Critical",
        "severity_major": "Major", "severity_minor": "Minor", "severity_info": "Info",
    },
}


def _locale() -> str:
    code = select_locale()
    return code if code in STRINGS else "vi"


def strings_for(locale: str) -> dict[str, str]:
    strings = dict(STRINGS[locale])
    index = 0 if locale == "vi" else 1
    strings.update({f"status_{k}": v[index] for k, v in LABELS.items()})
    return strings


@bp.route("/console")
@page_roles("technician", "admin")
def console() -> ResponseReturnValue:
    settings = get_settings()
    locale = _locale()
    return render_template(
        "console/console.html", t=STRINGS[locale], locale=locale,
        strings_json=json.dumps(strings_for(locale), ensure_ascii=False),
        live_url=live_url(settings), zone=settings.timezone,
        active_nav="console",
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
