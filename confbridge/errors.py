"""Domain errors and their HTTP mapping.

Services raise these; the API turns them into JSON bodies of one shape:
``{"error": code, "message": text, ...extra}``.

Field errors are codes with parameters (:class:`FieldError`), rendered in the reader's language at the
edge: ``InvalidInput.as_dict(locale)`` gives ``{"errors": [{"field", "code", ...params, "message"}],
"fields": {field: message}}``.  The words for every field-error code are in :data:`FIELD_MESSAGES`
(Vietnamese msgids, English in the catalogue), the one place to read or reword them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Self

from confbridge.i18n import N_, translate

# (field, code) first, then code alone: the msgid that says what is wrong, with the error's parameters.
FIELD_MESSAGES: dict[tuple[str, str] | str, str] = {
    "required": N_("Bắt buộc."),
    "too_long_text": N_("Tối đa %(max_length)s ký tự."),
    "control_characters": N_("Không được chứa ký tự điều khiển (xuống dòng, NUL…)."),
    "invalid_email": N_("Địa chỉ e-mail không hợp lệ."),
    "needs_offset": N_("Cần có múi giờ UTC (RFC 3339)."),
    "unknown_timezone": N_("Múi giờ không hợp lệ: %(value)s"),
    "bad_sip": N_("Cần một SIP URI, ví dụ room@vc.example."),
    "bad_h323": N_("Cần một số E.164 hoặc bí danh H.323."),
    "duplicate_address": N_("Địa chỉ này đã có trong cuộc họp."),
    ("title", "required"): N_("Nhập tên cuộc họp."),
    ("title", "too_long_text"): N_("Tên cuộc họp tối đa %(max_length)s ký tự."),
    ("end", "before_start"): N_("Giờ kết thúc phải sau giờ bắt đầu."),
    ("end", "too_short"): N_("Cuộc họp dài ít nhất %(min_minutes)s phút."),
    ("end", "too_long"): N_("Cuộc họp dài tối đa %(max_hours)s giờ."),
    ("start", "in_past"): N_("Thời gian này đã qua."),
    ("end", "in_past"): N_("Thời gian này đã qua."),
    ("end", "blackout_too_long"): N_("Một lịch ngừng phục vụ dài tối đa %(max_days)s ngày."),
    ("start", "not_an_occurrence"): N_("Giờ bắt đầu phải là một buổi của quy tắc lặp."),
    ("start", "beyond_horizon"): N_("Chỉ nhận đặt lịch trong vòng %(days)s ngày tới."),
    ("rrule", "beyond_horizon"): N_("Chỉ nhận đặt lịch trong vòng %(days)s ngày tới."),
    ("rrule", "no_occurrence"): N_("Quy tắc lặp không tạo ra buổi nào."),
    ("rrule", "too_many"): N_("Một chuỗi lịch có tối đa %(max_occurrences)s buổi."),
    ("setup_minutes", "out_of_range"): N_("Thời gian chuẩn bị từ 0 đến %(max_minutes)s phút."),
    ("pin", "invalid_pin"): N_("Mã PIN gồm %(min_digits)s đến %(max_digits)s chữ số."),
    ("endpoint_ids", "required"): N_("Chọn ít nhất một điểm cầu."),
    ("endpoint_ids", "unknown"): N_("Không có điểm cầu số: %(ids)s"),
    ("endpoint_ids", "disabled"): N_("Điểm cầu đã tắt: %(names)s"),
    ("endpoint_ids", "too_many_for_bridge"): N_(
        "MCU “%(bridge)s” có %(ports)s cổng video; đã chọn %(count)s điểm cầu."),
    ("host_endpoint_id", "not_chosen"): N_("Điểm cầu chính phải nằm trong các điểm cầu đã chọn."),
    ("bridge_name", "unknown"): N_("Không có MCU tên “%(value)s”."),
    ("attendees", "too_many"): N_("Tối đa %(max_attendees)s người được mời."),
    ("attendees", "outside_domains"): N_("Chỉ gửi lời mời tới địa chỉ thuộc %(domains)s: %(addresses)s"),
    ("attendees", "daily_cap"): N_(
        "Mỗi người tổ chức được mời tối đa %(cap)s người nhận mới mỗi ngày (đã gửi %(sent)s trong 24 giờ qua)."),
    ("exdates", "too_many"): N_("Tối đa %(max_occurrences)s ngày loại trừ."),
    ("rrule", "only_holidays"): N_(
        "Mọi buổi của chuỗi lịch đều rơi vào ngày nghỉ lễ; chọn giữ các buổi ngày lễ hoặc đổi quy tắc lặp."),
    # Booking on behalf, co-organisers and approval (booking.organisers, booking.approval).
    "unknown_user": N_("Không có tài khoản “%(username)s”."),
    "inactive_user": N_("Tài khoản “%(username)s” đã bị khóa."),
    "cannot_organise": N_("Tài khoản “%(username)s” không có quyền đặt lịch nên không thể là người chủ trì."),
    ("reason", "required"): N_("Nhập lý do từ chối."),
    # Generic codes any service may use.
    "unknown_field": N_("Trường này không được hỗ trợ."),
    "one_of": N_("Chọn một trong: %(choices)s."),
    "not_integer": N_("Cần một số nguyên."),
    "not_boolean": N_("Cần giá trị true hoặc false."),
    "not_datetime": N_("Cần ngày giờ theo RFC 3339."),
    "out_of_range": N_("Trong khoảng %(low)s đến %(high)s."),
    "at_least": N_("Tối thiểu %(low)s."),
    "at_most": N_("Tối đa %(high)s."),
    "not_null": N_("Không được để trống (null)."),
    "not_number": N_("Cần một số."),
    "not_string": N_("Cần một chuỗi ký tự."),
    "not_list": N_("Cần một danh sách."),
    "not_object": N_("Cần một đối tượng JSON."),
    "invalid_value": N_("Giá trị không hợp lệ."),
    "bad_cursor": N_("Vị trí trang không hợp lệ: dùng giá trị “next” của trang trước."),
    "too_short_text": N_("Tối thiểu %(min_length)s ký tự."),
    "length_between": N_("Từ %(low)s đến %(high)s ký tự."),
    # Report periods (reports, audit log).
    "not_date": N_("Cần ngày (YYYY-MM-DD) hoặc ngày giờ kèm múi giờ."),
    "before_from": N_("Phải sau ngày bắt đầu."),
    "period_too_long": N_("Tối đa %(max_days)s ngày."),
    # Recurrence rules (RFC 5545 RRULE).
    ("rrule", "not_rrule"): N_("Không phải quy tắc lặp RFC 5545 (RRULE)."),
    ("rrule", "malformed_part"): N_("Phần quy tắc lặp viết sai: %(part)s"),
    ("rrule", "bad_freq"): N_("FREQ phải là DAILY, WEEKLY, MONTHLY hoặc YEARLY."),
    ("rrule", "has_dtstart"): N_("DTSTART lấy từ giờ bắt đầu, không ghi trong quy tắc lặp."),
    ("rrule", "count_and_until"): N_("Không được đặt cả COUNT và UNTIL."),
    ("rrule", "no_end"): N_("Chuỗi lịch phải kết thúc: thêm ngày kết thúc (UNTIL) hoặc số buổi (COUNT)."),
    ("rrule", "bad_until"): N_("Giá trị UNTIL không hợp lệ: %(value)s"),
    ("rrule", "unsupported_parts"): N_("Không hỗ trợ phần: %(parts)s; chỉ hỗ trợ: %(supported)s."),
    ("rrule", "part_range"): N_("%(part)s chỉ nhận giá trị %(range)s."),
    ("rrule", "bad_wkst"): N_("WKST nhận một thứ trong tuần (MO..SU)."),
    ("rrule", "no_such_monthday"): N_("BYMONTHDAY không chỉ ngày nào có trong các tháng đã chọn."),
    ("rrule", "bad_byday"): N_("BYDAY nhận thứ trong tuần (MO..SU), có thể kèm số thứ tự (1MO, -1FR): %(value)s"),
    ("rrule", "numbered_weekday_freq"): N_("Thứ có số thứ tự (1MO, -1FR) cần FREQ=MONTHLY hoặc YEARLY."),
    ("rrule", "numbered_weekday_range"): N_("Số thứ tự của thứ trong tuần từ 1 đến %(max)s."),
    ("rrule", "daily_interval_filter"): N_(
        "FREQ=DAILY có INTERVAL không nhận BYDAY, BYMONTHDAY hay BYMONTH (dùng WEEKLY hoặc MONTHLY)."),
    ("rrule", "weekly_interval_filter"): N_("FREQ=WEEKLY có INTERVAL không nhận BYMONTHDAY hay BYMONTH."),
    ("rrule", "bysetpos_alone"): N_("BYSETPOS cần BYDAY, BYMONTHDAY hoặc BYMONTH."),
    # Accounts.
    ("username", "invalid_username"): N_("Tên đăng nhập gồm 2–63 chữ thường, chữ số, “.”, “_” hoặc “-”."),
    ("password", "too_short"): N_("Mật khẩu cần ít nhất %(min_length)s ký tự."),
    ("old_password", "wrong"): N_("Mật khẩu hiện tại không đúng."),
    # Directory.
    ("address", "bad_sip"): N_("Cần một SIP URI, ví dụ room@vc.example."),
    ("address", "bad_h323"): N_("Cần một số E.164 hoặc bí danh H.323."),
    ("file", "missing_columns"): N_("Tệp CSV thiếu cột: %(columns)s"),
    ("contact_phone", "bad_phone"): N_("Số điện thoại chỉ gồm chữ số, dấu cách và + ( ) . -"),
    # Subscriptions and launch.
    ("endpoint_id", "unknown"): N_("Không có điểm cầu số %(id)s."),
    ("audio", "audio_or_video"): N_("Chọn âm thanh và/hoặc hình ảnh."),
    ("body", "not_object"): N_("Nội dung yêu cầu phải là một đối tượng JSON."),
    # Pages.
    ("suggest", "invalid_start"): N_("Giờ đề xuất không hợp lệ: %(value)s"),
    ("date", "out_of_range"): N_("Ngày %(value)s nằm ngoài khoảng %(low)d–%(high)d."),
    ("layout", "unknown"): N_("Bố cục phải là một trong: %(choices)s."),
    ("layout", "unsupported"): N_("MCU “%(bridge)s” không hỗ trợ bố cục “%(layout)s”."),
    ("host_endpoint_id", "not_a_participant"): N_("Điểm cầu số %(endpoint_id)s không tham gia hội nghị này."),
    ("external_participants", "too_many"): N_("Tối đa %(max_external)s điểm cầu ngoài."),
    ("external_participants", "too_many_uplinks"): N_("Chỉ một điểm cầu ngoài được là đường kết nối cấp trên."),
    # Endpoint groups and meeting templates.
    ("name", "taken"): N_("Tên “%(value)s” đã được dùng."),
    ("group_ids", "unknown"): N_("Không có nhóm điểm cầu số: %(ids)s"),
    ("group_ids", "too_many"): N_("Tối đa %(max_count)s nhóm."),
    ("endpoint_ids", "too_many"): N_("Tối đa %(max_count)s điểm cầu."),
    ("template_id", "unknown"): N_("Không có mẫu lịch họp số %(id)s của bạn."),
    ("end", "required"): N_("Nhập giờ kết thúc (hoặc chọn mẫu có thời lượng)."),
    ("duration_minutes", "out_of_range"): N_("Thời lượng từ %(low)s đến %(high)s phút."),
}


@dataclass(frozen=True)
class FieldError:
    """One bad field: ``FieldError("end", "too_long", max_hours=12)``."""

    field: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, name: str, code: str, **params: Any) -> FieldError:
        return cls(name, code, params)

    def message(self, locale: str | None) -> str:
        """The error in *locale*'s words."""
        base = self.field.split(".")[0]
        msgid = FIELD_MESSAGES.get((base, self.code)) or FIELD_MESSAGES.get(self.code)
        if msgid is None:
            return str(self.params.get("detail", self.code))
        return translate(locale, msgid, **self.params)

    def as_dict(self, locale: str | None) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, **self.params, "message": self.message(locale)}


class DomainError(Exception):
    """A refusal the caller can act on: ``code`` for programs, words for people.

    Raise with a message id so every reader gets their own language::

        raise NotFound.said(N_("Không có cuộc họp số %(id)s."), id=meeting_id)

    ``message`` is then the English rendering (logs, tests); :meth:`text` and :meth:`as_dict` render
    the reader's locale.  A plain ``DomainError("text")`` keeps *text* as it is in every language.
    """

    status = 400
    code = "error"

    def __init__(self, message: str, *, msgid: str | None = None, params: dict[str, Any] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.msgid = msgid
        self.params = dict(params or {})
        self.extra = extra

    @classmethod
    def said(cls, msgid: str, /, *, extra: dict[str, Any] | None = None, **params: Any) -> Self:
        """The error worded by catalogue message *msgid* (Vietnamese source text) with *params*."""
        return cls(translate("en", msgid, **params), msgid=msgid, params=params, **(extra or {}))

    def text(self, locale: str | None) -> str:
        """The message in *locale*'s words."""
        if self.msgid is None:
            return self.message
        return translate(locale, self.msgid, **self.params)

    def as_dict(self, locale: str | None = "en") -> dict[str, Any]:
        return {"error": self.code, "message": self.text(locale), **self.extra}


class InvalidInput(DomainError):
    """Field-level validation failure.

    ``errors`` lists :class:`FieldError` codes; ``fields`` maps a field name to a message (in English
    for logs and tests; :meth:`as_dict` renders the reader's language).  Older callers that pass plain
    ``fields`` messages get them wrapped as code ``invalid`` with the text as ``detail``.
    """

    status = 422
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None,
                 errors: list[FieldError] | None = None) -> None:
        if errors is None:
            errors = [FieldError(name, "invalid", {"detail": text}) for name, text in (fields or {}).items()]
        super().__init__(message)
        self.errors = errors
        self.fields = {e.field: e.message("en") for e in errors} if fields is None else dict(fields)

    @classmethod
    def of(cls, errors: list[FieldError]) -> InvalidInput:
        return cls("invalid input: " + ", ".join(sorted({e.field for e in errors})), errors=errors)

    def text(self, locale: str | None) -> str:
        """Every field's message in *locale*'s words (pages show it; the API lists them per field)."""
        if self.msgid is not None or not self.errors:
            return super().text(locale)
        return " ".join(dict.fromkeys(e.message(locale) for e in self.errors))

    def codes(self) -> dict[str, str]:
        """field → code, for a form that places errors by field and code (never by their wording)."""
        return {e.field: e.code for e in self.errors}

    def as_dict(self, locale: str | None = "en") -> dict[str, Any]:
        return {"error": self.code, "message": invalid_summary(locale, [e.field for e in self.errors]),
                "fields": {e.field: e.message(locale) for e in self.errors},
                "errors": [e.as_dict(locale) for e in self.errors]}


def invalid_summary(locale: str | None, fields: list[str]) -> str:
    """The top-level message of a 422 in the reader's language, naming the fields refused."""
    if not fields:
        return translate(locale, N_("Dữ liệu không hợp lệ."))
    return translate(locale, N_("Dữ liệu không hợp lệ: %(fields)s"), fields=", ".join(sorted(set(fields))))


def generic_field_message(locale: str | None, code: str, **params: Any) -> str:
    """A code's generic words (no field-specific wording): for refusals whose parameters come from a
    schema library rather than from our rules."""
    msgid = FIELD_MESSAGES.get(code)
    return translate(locale, msgid, **params) if msgid else code


class Conflict(DomainError):
    status = 409
    code = "conflict"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
