"""The booking form (new and whole-series edit), a meeting's page, per-occurrence edit and cancel.

Thin: parse the form (``forms``), call one booking service function, render.  Conflicts are shown before
saving: "Kiểm tra" runs the service's dry run (``check_booking``), and saving re-checks inside the
service's transaction, so a booking made in between is still refused with the same words.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from confbridge import clock
from confbridge.api.common import db, get_settings
from confbridge.auth.access import may_see_confidential
from confbridge.auth.web import current_user
from confbridge.booking import holiday_policy, organisers, service, templates
from confbridge.booking.describe import describe_meeting, describe_series
from confbridge.booking.models import Meeting, Occurrence, OccurrenceStatus
from confbridge.booking.validation import check_duration
from confbridge.directory import groups as endpoint_groups
from confbridge.errors import FieldError, Forbidden, InvalidInput, NotFound
from confbridge.ui import booking_support as support
from confbridge.ui import template_form
from confbridge.ui.calendar_views import live_occurrence_ids
from confbridge.ui.format import fmt_weekday, parse_date, parse_time
from confbridge.ui.forms import (
    DURATION_CHOICES,
    BookingForm,
    form_from_meeting,
    parse_booking_form,
    service_errors,
)
from confbridge.ui.i18n import select_locale, user_zone
from confbridge.ui.recurrence_form import WEEKDAYS, nth_names, weekday_names
from confbridge.ui.roles import ANY_ROLE, SECRETARY_ROLES, page_roles

bp = Blueprint("booking", __name__)


DEFAULT_DURATION_MINUTES = 90  # the booking form's first choice, and an urgent meeting's length


def _next_minute(zone: ZoneInfo) -> datetime:
    """Now in *zone*, rounded up to the next whole minute (an urgent meeting starts then)."""
    now = clock.now().astimezone(zone)
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _blank_form() -> MultiDict[str, str]:
    settings = get_settings()
    day = request.args.get("date", "")
    try:
        shown = parse_date(day).strftime("%d/%m/%Y") if day else ""
    except ValueError:
        shown = ""
    values = {
        "date": shown, "start_time": request.args.get("time", ""), "duration": str(DEFAULT_DURATION_MINUTES),
        "setup_minutes": str(settings.booking.default_setup_minutes), "repeat": "none",
        "end_kind": "count", "count": "10", "nth": "1", "nth_weekday": "MO",
    }
    if request.args.get("now") == "1":  # "Họp ngay": from now, the default duration, launched at once
        start = _next_minute(user_zone())
        values.update({"date": f"{start:%d/%m/%Y}", "start_time": f"{start:%H:%M}", "start_now": "1"})
    template_id = request.args.get("template", "")
    if template_id.isdigit():  # "Bắt đầu từ mẫu": the form filled from one of the user's templates
        template = templates.get_template(db(), current_user(), int(template_id))
        return template_form.from_template(MultiDict(values), template, user_zone())
    return MultiDict(values)


def _start_now(form: MultiDict[str, str]) -> MultiDict[str, str]:
    """An urgent booking starts when it is saved (the minute after), however long the form took."""
    if form.get("start_now") != "1":
        return form
    start = _next_minute(user_zone())
    values = form.copy()
    values["date"], values["start_time"] = f"{start:%d/%m/%Y}", f"{start:%H:%M}"
    return values


def _check(bf: BookingForm, meeting: Meeting | None) -> dict[str, Any]:
    """The dry run: conflicts in words, the proposed free slot, the first occurrences."""
    result: dict[str, Any] = {"conflicts": [], "more": 0, "suggestion": None, "preview": [], "skipped": [],
                              "checked": False}
    if bf.errors or bf.start is None:
        return result
    settings = get_settings()
    zone = user_zone()
    try:
        conflicts, capacity, suggestion = service.check_booking(
            db(), settings, bf.to_input(), exclude_meeting_id=meeting.id if meeting else None,
        )
        holidays = holiday_policy.series_skips(settings, bf.start, bf.zone, bf.rrule, bf.exdates)
        starts, skipped = support.preview_starts(bf.start, bf.zone, bf.rrule, [*bf.exdates, *holidays])
    except InvalidInput as exc:
        bf.errors.update(service_errors(exc.errors))
        return result
    lines, more = support.conflict_lines(conflicts, capacity, zone)
    result.update(conflicts=lines, more=more, suggestion=suggestion, preview=starts, skipped=skipped,
                  checked=True, invite=support.draft_invitation(db(), settings, bf.to_input()))
    result["holidays"] = holiday_policy.form_notes(settings, bf.start, bf.zone, bf.rrule, bf.exdates,
                                                   select_locale())
    return result


def _render_form(bf: BookingForm, meeting: Meeting | None, check: dict[str, Any] | None = None,
                 status: int = 200) -> ResponseReturnValue:
    settings = get_settings()
    zone = user_zone()
    window = None
    if bf.start is not None and bf.duration is not None:
        setup = bf.to_input().setup_minutes
        window = support.first_window(bf.start, bf.duration,
                                      settings.booking.default_setup_minutes if setup is None else setup)
    groups = support.endpoint_groups(db(), settings, window, zone, meeting.id if meeting else None)
    return render_template(
        "booking/form.html", form=bf, meeting=meeting, groups=groups, check=check or {},
        weekday_codes=WEEKDAYS, weekday_names=weekday_names(), nth_names=nth_names(),
        durations=DURATION_CHOICES, selected=set(bf.endpoint_ids),
        summary=_summary(bf), active_nav="booking", people=organisers.candidates(db()),
        endpoint_groups=endpoint_groups.list_groups(db()),
        templates=templates.list_templates(db(), current_user()) if meeting is None else [],
    ), status


def _suggested_start(raw: str, zone: ZoneInfo) -> datetime:
    """The proposed start posted by "Dùng giờ này" (an RFC 3339 instant), or a 422 naming it."""
    try:
        instant = datetime.fromisoformat(raw)
        if instant.tzinfo is None or not 1970 <= instant.year <= 9000:
            raise ValueError(raw)
        return instant.astimezone(zone)
    except (ValueError, OverflowError):
        raise InvalidInput.of([FieldError.of("suggest", "invalid_start", value=raw[:40])]) from None


def _save_or_recheck(bf: BookingForm, meeting: Meeting | None) -> ResponseReturnValue:
    action = request.form.get("action", "check")
    if request.form.get("add_group"):  # a group button without JavaScript: tick its endpoints
        return _render_form(template_form.with_group(bf, request.form["add_group"], bf.zone), meeting)
    if action == "save_template":
        stored = template_form.save_as_template(bf, current_user())
        return _render_form(bf, meeting, status=200 if stored else 422)
    suggested = request.form.get("suggest", "")
    if suggested:
        # "Dùng giờ này": move the form to the proposed start and check again.
        local = _suggested_start(suggested, bf.zone)
        values = bf.values.copy()
        values["date"], values["start_time"] = f"{local:%d/%m/%Y}", f"{local:%H:%M}"
        bf = parse_booking_form(values, bf.zone, get_settings())
        action = "check"
    if bf.errors:
        return _render_form(bf, meeting, status=422)
    if action != "save":
        return _render_form(bf, meeting, _check(bf, meeting))
    user = current_user()
    try:
        if meeting is None:
            saved = service.create_meeting(db(), get_settings(), user, bf.to_input(), **_people(bf))
        else:
            data = bf.to_input()
            changes = {k: getattr(data, k) for k in (
                "title", "description", "start", "end", "endpoint_ids", "host_endpoint_id", "attendees",
                "rrule", "exdates", "setup_minutes", "pin")}
            changes["timezone"] = data.timezone
            changes.update(_people(bf))
            saved = service.update_meeting(db(), get_settings(), user, meeting, changes)
    except service.BookingConflict:
        db().rollback()
        check = _check(bf, meeting)
        return _render_form(bf, meeting, check, status=409)
    except InvalidInput as exc:
        db().rollback()
        bf.errors.update(service_errors(exc.errors))
        return _render_form(bf, meeting, status=422)
    n = sum(1 for o in saved.occurrences if o.status == OccurrenceStatus.PLANNED)
    flash(_("Đã lưu lịch “%(title)s” (%(count)d buổi).", title=saved.title, count=n), "success")
    return redirect(url_for("booking.meeting", meeting_id=saved.id))


def _people(bf: BookingForm) -> dict[str, Any]:
    """The organiser and co-organiser pickers, when the form showed them (booking.organisers)."""
    if bf.get("people_shown") != "1":
        return {}
    return {"organizer": bf.get("organizer").strip() or None, "co_organizers": bf.getlist("co_organizers")}


@bp.route("/bookings/new", methods=["GET", "POST"])
@page_roles(*SECRETARY_ROLES)
def new() -> ResponseReturnValue:
    zone = user_zone()
    if request.method == "GET":
        bf = parse_booking_form(_blank_form(), zone, get_settings())
        bf.errors.clear()  # an empty form is not an error yet
        return _render_form(bf, None)
    return _save_or_recheck(parse_booking_form(_start_now(request.form), zone, get_settings()), None)


@bp.post("/bookings/check.json")
@page_roles(*SECRETARY_ROLES)
def check_json() -> ResponseReturnValue:
    """The form's live check (booking.js): the same dry run as the "Kiểm tra" button, as JSON."""
    zone = user_zone()
    bf = parse_booking_form(request.form, zone, get_settings())
    meeting_id = request.form.get("meeting_id", "")
    meeting = _get_meeting(int(meeting_id)) if meeting_id.isdigit() else None
    if meeting is not None:
        service.require_edit(current_user(), meeting)
    check = _check(bf, meeting)
    availability: dict[str, str | None] = {}
    if bf.start is not None and bf.duration is not None:
        setup = bf.to_input().setup_minutes
        window = support.first_window(bf.start, bf.duration, setup if setup is not None
                                      else get_settings().booking.default_setup_minutes)
        for _site, choices in support.endpoint_groups(db(), get_settings(), window, zone,
                                                      meeting.id if meeting else None):
            for choice in choices:
                availability[str(choice.endpoint.id)] = choice.busy_with
    suggestion = check.get("suggestion")
    return jsonify({
        "errors": bf.errors,
        "checked": check.get("checked", False),
        "conflicts": check.get("conflicts", []),
        "more": check.get("more", 0),
        "suggestion": suggestion.isoformat() if suggestion else None,
        "suggestion_text": (f"{suggestion.astimezone(zone):%d/%m/%Y %H:%M}" if suggestion else None),
        "preview": [f"{s.astimezone(zone):%d/%m/%Y %H:%M}" for s in check.get("preview", [])],
        "preview_weekdays": [_weekday(s.astimezone(zone)) for s in check.get("preview", [])],
        "skipped": [f"{s.astimezone(zone):%d/%m/%Y}" for s in check.get("skipped", [])],
        "holidays": check.get("holidays", []),
        "summary": _summary(bf),
        "rrule": bf.rrule,
        "availability": availability,
    })


def _summary(bf: BookingForm) -> str:
    """The form's repetition in words (the same words as the meeting page and the invitation)."""
    if bf.start is None or (bf.recurrence.kind != "none" and not bf.rrule):
        return ""  # nothing to describe yet, or a rule the form refused (its field errors say why)
    return describe_series(bf.rrule, bf.start, bf.zone, select_locale(), bf.exdates)


def _weekday(value: datetime) -> str:
    return fmt_weekday(value.date())


@bp.get("/meetings/<int:meeting_id>")
@page_roles(*ANY_ROLE)
def meeting(meeting_id: int) -> ResponseReturnValue:
    m = _get_meeting(meeting_id)
    user = current_user()
    live = live_occurrence_ids(db(), [o.id for o in m.occurrences])
    zone = ZoneInfo(m.timezone)
    confidential = may_see_confidential(user, m)  # PIN and attendees: organiser, admins, technicians
    return render_template(
        "booking/meeting.html", meeting=m, can_edit=service.can_edit(user, m), confidential=confidential,
        invite=support.invitation_preview(m, get_settings()) if confidential else None,
        key=support.occurrence_key,
        now=_now(), live=live, zone_of_meeting=zone, active_nav="calendar",
        repeat_text=describe_meeting(m, select_locale()),
    )


def _now() -> datetime:
    return clock.now()


def _get_meeting(meeting_id: int) -> Meeting:
    try:
        return service.get_meeting(db(), meeting_id)
    except NotFound:
        raise NotFound(_("Không có cuộc họp số %(id)d.", id=meeting_id)) from None


def _editable(meeting_id: int) -> Meeting:
    m = _get_meeting(meeting_id)
    if not service.can_edit(current_user(), m):
        raise Forbidden(_("Chỉ người đặt lịch hoặc quản trị viên mới được thay đổi cuộc họp này."))
    return m


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@page_roles(*SECRETARY_ROLES)
def edit(meeting_id: int) -> ResponseReturnValue:
    m = _editable(meeting_id)
    zone = user_zone()
    if request.method == "GET":
        return _render_form(parse_booking_form(form_from_meeting(m, zone), ZoneInfo(m.timezone), get_settings()), m)
    return _save_or_recheck(parse_booking_form(request.form, ZoneInfo(m.timezone), get_settings()), m)


@bp.route("/meetings/<int:meeting_id>/occurrences/<occ_key>/edit", methods=["GET", "POST"])
@page_roles(*SECRETARY_ROLES)
def edit_occurrence(meeting_id: int, occ_key: str) -> ResponseReturnValue:
    m = _editable(meeting_id)
    occ = _occurrence(m, occ_key)
    zone = ZoneInfo(m.timezone)
    errors: dict[str, str] = {}
    conflicts: list[str] = []
    local = occ.start.astimezone(zone)
    values = {"date": f"{local:%d/%m/%Y}", "start_time": f"{local:%H:%M}",
              "duration": str(int((occ.end - occ.start).total_seconds() // 60)), "scope": "this"}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            day = parse_date(values["date"])
        except ValueError:
            errors["date"] = _("Nhập ngày theo dạng dd/mm/yyyy.")
        try:
            at = parse_time(values["start_time"])
        except ValueError:
            errors["start_time"] = _("Nhập giờ bắt đầu theo dạng 24 giờ, ví dụ 07:30.")
        minutes = int(values["duration"]) if values["duration"].isdigit() else 0
        rule_errors: list[FieldError] = []
        check_duration(get_settings(), timedelta(minutes=minutes), rule_errors)  # the service's rule
        errors.update(service_errors(rule_errors))
        scope = "following" if values["scope"] == "following" else "this"
        if not errors:
            start = datetime.combine(day, at, tzinfo=zone)
            change = service.OccurrenceChange(start=start, end=start + timedelta(minutes=minutes))
            try:
                saved = service.update_occurrence(db(), get_settings(), current_user(), m, occ.original_start,
                                                  change, scope)  # type: ignore[arg-type]
            except service.BookingConflict as exc:
                db().rollback()
                conflicts, _more = support.conflict_lines(exc.conflicts, exc.capacity, user_zone())
            except InvalidInput as exc:
                db().rollback()
                errors.update(service_errors(exc.errors))
            else:
                flash(_("Đã cập nhật buổi họp."), "success")
                return redirect(url_for("booking.meeting", meeting_id=saved.id))
    status = 409 if conflicts else 422 if errors else 200
    return render_template("booking/occurrence_edit.html", meeting=m, occ=occ, values=values, errors=errors,
                           conflicts=conflicts, active_nav="calendar"), status


@bp.route("/meetings/<int:meeting_id>/occurrences/<occ_key>/cancel", methods=["GET", "POST"])
@page_roles(*SECRETARY_ROLES)
def cancel_occurrence(meeting_id: int, occ_key: str) -> ResponseReturnValue:
    m = _editable(meeting_id)
    occ = _occurrence(m, occ_key)
    if request.method == "POST":
        scope = "following" if request.form.get("scope") == "following" else "this"
        service.cancel_occurrence(db(), get_settings(), current_user(), m, occ.original_start, scope)  # type: ignore[arg-type]
        when = occ.start.astimezone(user_zone())
        flash(_("Đã hủy buổi họp ngày %(date)s. Thư báo hủy sẽ được gửi tới %(count)d người được mời.",
                date=f"{when:%d/%m/%Y}", count=len(m.attendees)), "success")
        return redirect(url_for("booking.meeting", meeting_id=m.id))
    invite = support.invitation_preview(m, get_settings(), "occurrence_cancel" if m.rrule else "cancel", occ)
    return render_template("booking/cancel.html", meeting=m, occ=occ, invite=invite, active_nav="calendar")


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@page_roles(*SECRETARY_ROLES)
def cancel(meeting_id: int) -> ResponseReturnValue:
    m = _editable(meeting_id)
    if request.method == "POST":
        service.cancel_meeting(db(), get_settings(), current_user(), m)
        flash(_("Đã hủy toàn bộ lịch “%(title)s”. Thư báo hủy sẽ được gửi tới %(count)d người được mời.",
                title=m.title, count=len(m.attendees)), "success")
        return redirect(url_for("booking.meeting", meeting_id=m.id))
    invite = support.invitation_preview(m, get_settings(), "cancel")
    return render_template("booking/cancel.html", meeting=m, occ=None, invite=invite, active_nav="calendar")


def _occurrence(meeting: Meeting, occ_key: str) -> Occurrence:
    try:
        return service.get_occurrence(meeting, _key(occ_key))
    except NotFound:
        raise NotFound(_("Không có buổi họp này.")) from None


def _key(occ_key: str) -> datetime:
    try:
        return support.parse_occurrence_key(occ_key)
    except ValueError:
        raise NotFound(_("Không có buổi họp này.")) from None



