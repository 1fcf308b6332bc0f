"""Words of the reports and their exports (Vietnamese msgids, translated at the edge)."""

from __future__ import annotations

from confbridge.i18n import N_, translate

OUTCOMES = {"connected": N_("Đã kết nối"), "failed": N_("Không kết nối được"), "not_dialled": N_("Chưa gọi")}
REASONS = {
    "busy": N_("máy bận"), "no_answer": N_("không trả lời"), "rejected": N_("từ chối"),
    "unreachable": N_("không liên lạc được"), "remote_hangup": N_("đầu xa ngắt"), "other": N_("lý do khác"),
    "bridge_error": N_("lỗi MCU"),
}
STATES = {
    "scheduled": N_("Đã lên lịch"), "starting": N_("Đang khởi tạo"), "live": N_("Đang diễn ra"),
    "ending": N_("Đang kết thúc"), "ended": N_("Đã kết thúc"), "failed": N_("Thất bại"), "missed": N_("Bị lỡ"),
    "cancelled": N_("Đã hủy"),
}
GROUPS = {"endpoint": N_("Điểm cầu"), "site": N_("Đơn vị"), "bridge": N_("MCU"), "organizer": N_("Người tổ chức")}
LAUNCHES = {"on_time": N_("Đúng giờ"), "late": N_("Muộn"), "missed": N_("Bị lỡ"), "pending": N_("Chưa tới giờ")}

CDR_COLUMNS = (
    ("run_id", N_("Mã hội nghị")), ("meeting", N_("Cuộc họp")), ("organiser", N_("Người tổ chức")),
    ("occurrence_start", N_("Giờ họp")), ("planned_start", N_("Giờ khởi tạo theo lịch")),
    ("first_call_at", N_("Lệnh MCU đầu tiên")), ("lateness_seconds", N_("Trễ (giây)")),
    ("ended_at", N_("Kết thúc thực tế")), ("bridge", N_("MCU")), ("state", N_("Trạng thái")),
    ("endpoint", N_("Tên điểm cầu")), ("site", N_("Đơn vị")), ("attempts", N_("Số lần gọi")),
    ("outcome", N_("Kết quả")), ("reason", N_("Lý do")), ("first_connected_at", N_("Kết nối lần đầu lúc")),
    ("connected_seconds", N_("Thời gian kết nối (giây)")), ("drops", N_("Số lần rớt")),
)
USAGE_COLUMNS = (
    ("name", N_("Tên")), ("meetings", N_("Số cuộc họp")), ("meeting_hours", N_("Giờ họp")),
    ("booked_hours", N_("Giờ đặt (điểm cầu × giờ)")), ("connected_hours", N_("Giờ kết nối (điểm cầu × giờ)")),
    ("office_share", N_("Tỷ lệ giờ hành chính")),
)
AUDIT_COLUMNS = (
    ("at", N_("Thời điểm")), ("actor", N_("Người thực hiện")), ("action", N_("Hành động")),
    ("object_type", N_("Loại đối tượng")), ("object_id", N_("Mã đối tượng")),
    ("source_address", N_("Địa chỉ nguồn")), ("details", N_("Chi tiết")),
)


def word(locale: str, table: dict[str, str], code: str | None) -> str:
    """The translated word for *code* in *table* (the code itself when unknown, empty for None)."""
    if code is None:
        return ""
    msgid = table.get(code)
    return translate(locale, msgid) if msgid else code
