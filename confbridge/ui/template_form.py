"""The booking form's endpoint groups and templates: pick a group (adds its endpoints), start from a
template (the form filled with its values), save the form as a template.

Thin: the groups' members and the template rules are the services' (``directory.groups``,
``booking.templates``); this module only moves values between them and the form's fields.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import flash
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from confbridge.api.common import db, get_settings
from confbridge.auth.models import User
from confbridge.booking import templates
from confbridge.booking.templates import MeetingTemplate
from confbridge.directory import groups
from confbridge.errors import InvalidInput, NotFound
from confbridge.ui.forms import BookingForm, parse_booking_form
from confbridge.ui.i18n import select_locale
from confbridge.ui.recurrence_form import choice_from_rrule

# Template fields → the booking form's fields, for the template rules' errors.
TEMPLATE_FIELDS = {"name": "template_name", "title": "title", "duration_minutes": "duration",
                   "setup_minutes": "setup_minutes", "host_endpoint_id": "host_endpoint_id",
                   "rrule": "repeat", "description": "description", "endpoint_ids": "endpoint_ids"}


def with_group(bf: BookingForm, group_id: str, zone: ZoneInfo) -> BookingForm:
    """The form with the group's endpoints ticked besides those already chosen (the no-script path of
    the group buttons; with JavaScript the page ticks them itself)."""
    try:
        members = groups.get_group(db(), int(group_id)).endpoint_ids if group_id.isdigit() else []
    except NotFound:
        members = []
    values = bf.values.copy()
    chosen = values.getlist("endpoint_ids")
    values.setlist("endpoint_ids", list(dict.fromkeys([*chosen, *map(str, members)])))
    refreshed = parse_booking_form(values, zone, get_settings())
    refreshed.errors.clear()  # adding endpoints is not a submission: no errors yet
    return refreshed


def from_template(values: MultiDict[str, str], template: MeetingTemplate, zone: ZoneInfo) -> MultiDict[str, str]:
    """A new booking form's values filled from *template* (date and time stay the person's)."""
    out = values.copy()
    out["title"] = template.title or template.name
    out["description"] = template.description
    if template.duration_minutes:
        out["duration"] = str(template.duration_minutes)
    if template.setup_minutes is not None:
        out["setup_minutes"] = str(template.setup_minutes)
    out["host_endpoint_id"] = str(template.host_endpoint_id or "")
    out["attendees"] = "\n".join(f"{a['name']} <{a['email']}>" if a.get("name") else a["email"]
                                 for a in template.attendees or [])
    members = [*template.endpoint_ids, *(eid for g in template.groups for eid in g.endpoint_ids)]
    out.setlist("endpoint_ids", [str(i) for i in dict.fromkeys(members)])
    if template.rrule:
        choice = choice_from_rrule(template.rrule, [], zone)
        repeat = {"repeat": choice.kind, "nth": str(choice.nth), "nth_weekday": choice.nth_weekday,
                  "end_kind": choice.end_kind, "count": str(choice.count or ""),
                  "until": f"{choice.until:%d/%m/%Y}" if choice.until else ""}
        for key, value in repeat.items():
            out[key] = value  # replaces (MultiDict.update would add a second value)
        out.setlist("weekdays", list(choice.weekdays))
    out["template_id"] = str(template.id)
    return out


def template_values(bf: BookingForm) -> dict[str, Any]:
    """What the form holds, as a template (the REST shape)."""
    host = bf.get("host_endpoint_id")
    setup = bf.get("setup_minutes").strip()
    duration = bf.get("duration").strip()
    return {
        "name": bf.get("template_name"), "title": bf.get("title"), "description": bf.get("description"),
        "duration_minutes": int(duration) if duration.isdigit() else None,
        "setup_minutes": int(setup) if setup.isdigit() else None,
        "endpoint_ids": bf.endpoint_ids, "group_ids": [],
        "host_endpoint_id": int(host) if host.isdigit() else None,
        "attendees": [{"email": e, "name": n} for e, n in bf.attendees], "rrule": bf.rrule,
    }


def save_as_template(bf: BookingForm, user: User) -> bool:
    """Save the form as one of *user*'s templates; refusals are placed on the form's fields."""
    try:
        template = templates.create_template(db(), get_settings(), user, template_values(bf))
    except InvalidInput as exc:
        db().rollback()
        locale = select_locale()
        for error in exc.errors:
            target = TEMPLATE_FIELDS.get(error.field.split(".")[0], "attendees")
            bf.errors.setdefault(target, error.message(locale))
        return False
    flash(_("Đã lưu mẫu lịch họp “%(name)s”.", name=template.name), "success")
    return True
