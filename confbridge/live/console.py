"""The technician console page (``/console``): the endpoint wall, live conferences, alarms, timeline.

The page is a shell; its ES module (``web/static/console/console.js``) gets a live token, opens the
WebSocket and renders the snapshot and the events.  The page's words come from the catalogue
(``STRINGS`` and :mod:`confbridge.notices`) in the user's language and are handed to the script through
``data-`` attributes on one element (the CSP forbids inline scripts).
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue

from confbridge.api.common import get_settings
from confbridge.i18n import N_, normalise_locale, translate
from confbridge.live.console_controls import control_strings
from confbridge.monitor.status import LABELS
from confbridge.notices import MESSAGES, render
from confbridge.public_urls import live_url
from confbridge.ui.i18n import select_locale
from confbridge.ui.roles import page_roles

bp = Blueprint("console", __name__)

# The console's own words (msgids: Vietnamese).  ``{c}``-style slots are filled in by the script.
STRINGS: dict[str, str] = {
    "title": N_("Bảng điều khiển kỹ thuật"), "wall": N_("Điểm cầu"),
    "conferences": N_("Hội nghị đang diễn ra và sắp diễn ra"), "alarms": N_("Cảnh báo"),
    "timeline": N_("Diễn biến"), "no_alarms": N_("Không có cảnh báo."),
    "connected_of": N_("{c}/{n} đã kết nối"), "all_connected_after": N_("Đủ điểm cầu sau {t}"),
    "ack": N_("Xác nhận"), "acked": N_("Đã xác nhận"),
    "conn_connecting": N_("Đang kết nối…"), "conn_live": N_("Trực tuyến"),
    "conn_lost": N_("Mất kết nối — thử lại sau {s} giây"), "conn_resync": N_("Đang đồng bộ lại…"),
    "conn_refused": N_("Không kết nối được máy chủ trực tiếp {u} (bị từ chối hoặc không trả lời) — thử lại "
                       "sau {s} giây"),
    "action_ok": N_("Đã gửi lệnh: {a}"), "action_failed": N_("Lệnh thất bại: {m}"),
    "leg_pending": N_("Chờ gọi"), "leg_dialling": N_("Đang gọi"), "leg_connected": N_("Đã kết nối"),
    "leg_disconnected": N_("Đã ngắt"), "leg_failed": N_("Gọi thất bại"), "leg_removed": N_("Đã bỏ"),
    "kind_uplink": N_("kết nối cấp trên"), "kind_external": N_("ngoài danh bạ"),
    "kind_dial_in": N_("quay số vào"),
    "attempts": N_("lần gọi"), "severity_critical": N_("Nghiêm trọng"), "severity_major": N_("Quan trọng"),
    "severity_minor": N_("Nhẹ"), "severity_info": N_("Mức thông tin"),
}
NO_CONFERENCES = N_("Không có hội nghị nào trong %(minutes)s phút tới.")


def _locale() -> str:
    return normalise_locale(select_locale())


def strings_for(locale: str, imminent_minutes: int) -> dict[str, str]:
    """Every word the console page and its script show, in *locale*: its own strings, the run states and
    operator actions (:mod:`confbridge.notices`), call-end reasons and the endpoint statuses."""
    strings = {key: translate(locale, msgid) for key, msgid in STRINGS.items()}
    strings["no_conferences"] = translate(locale, NO_CONFERENCES, minutes=imminent_minutes)
    for code in MESSAGES:
        group, _, name = code.partition(".")
        if group in ("state", "reason", "action") and name not in ("changed", "changed_why", "on"):
            strings[f"{group}_{name}" if group != "action" else name] = render(code, None, locale)
    strings.update({f"status_{k}": translate(locale, msgid) for k, msgid in LABELS.items()})
    strings.update(control_strings(locale))
    return strings


@bp.route("/console")
@page_roles("technician", "admin")
def console() -> ResponseReturnValue:
    settings = get_settings()
    locale = _locale()
    strings = strings_for(locale, settings.live.imminent_minutes)
    return render_template(
        "console/console.html", t=strings, locale=locale,
        strings_json=json.dumps(strings, ensure_ascii=False),
        live_url=live_url(settings), zone=settings.timezone,
        active_nav="console",
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
