"""Booking from endpoint groups and templates: turn a request's ``group_ids`` and ``template_id`` into
the plain fields the booking service checks (one rule, used by the REST API and the booking form).

* ``template_id``: the template's value fills every field the request leaves out (``end`` from the
  template's duration); a template the caller may not use is a field error on ``template_id``.
* ``group_ids``: the groups' endpoints (as they are now) are added to ``endpoint_ids``; the meeting
  stores the union, so a later change to a group never touches it.  An unknown group is a field error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from confbridge.auth.models import User
from confbridge.booking import templates
from confbridge.directory import groups
from confbridge.errors import FieldError, InvalidInput

REQUIRED = ("title", "end", "endpoint_ids")


def fill_request(session: Session, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """*data* (a parsed booking request) with its template and groups applied; ``group_ids`` and
    ``template_id`` are consumed.  Refuses (422, per field) what is still missing."""
    data = dict(data)
    template_id = data.pop("template_id", None)
    group_ids = data.pop("group_ids", None)
    if template_id is not None:
        template = templates.usable_template(session, user, template_id)
        for key, value in templates.request_defaults(template, data.get("start")).items():
            if key == "group_ids":
                group_ids = value if group_ids is None else group_ids
            elif key not in data:
                data[key] = value
    if group_ids:
        from_groups = groups.resolve(session, group_ids)
        data["endpoint_ids"] = list(dict.fromkeys([*data.get("endpoint_ids", []), *from_groups]))
    missing = [FieldError.of(key, "required") for key in REQUIRED if key not in data]
    if missing:
        raise InvalidInput.of(missing)
    return data
