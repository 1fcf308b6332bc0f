"""Meeting templates (mẫu lịch họp): the shape of a meeting booked again and again ("Giao ban tuần với
15 UBND huyện": title, length, setup, endpoints and groups, host, attendees, repetition).

A secretary manages and books from her own templates, an administrator from every template
(``auth.access.may_use_template``).  Booking with ``template_id`` fills every field the request leaves
out from the template (:func:`request_defaults`); the meeting keeps its own copy of every value, so
changing or deleting the template never touches a meeting already booked.  A template's groups are
resolved when it is used (the group as it is that day).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from confbridge import clock, limits
from confbridge.audit.models import record
from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking import recurrence
from confbridge.booking.validation import check_attendees, check_setup
from confbridge.db import Base, UTCDateTime
from confbridge.directory.groups import EndpointGroup
from confbridge.directory.models import Endpoint
from confbridge.errors import FieldError, Forbidden, InvalidInput, NotFound
from confbridge.i18n import N_
from confbridge.settings import Settings
from confbridge.text import check_line, check_text

MAX_TEMPLATE_NAME_LENGTH = 200
FIELDS = ("name", "title", "duration_minutes", "setup_minutes", "endpoint_ids", "group_ids",
          "host_endpoint_id", "attendees", "rrule", "description")

template_endpoints = Table(
    "template_endpoints",
    Base.metadata,
    Column("template_id", ForeignKey("meeting_templates.id", ondelete="CASCADE"), primary_key=True),
    Column("endpoint_id", ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True),
)
template_groups = Table(
    "template_groups",
    Base.metadata,
    Column("template_id", ForeignKey("meeting_templates.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("endpoint_groups.id", ondelete="CASCADE"), primary_key=True),
)


class MeetingTemplate(Base):
    __tablename__ = "meeting_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_TEMPLATE_NAME_LENGTH))
    title: Mapped[str] = mapped_column(String(limits.MAX_TITLE_LENGTH), default="")
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    setup_minutes: Mapped[int | None] = mapped_column(Integer)
    host_endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id", ondelete="SET NULL"))
    attendees: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # [{"email", "name"}]
    rrule: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    endpoints: Mapped[list[Endpoint]] = relationship(secondary=template_endpoints, order_by=Endpoint.name,
                                                     lazy="selectin")
    groups: Mapped[list[EndpointGroup]] = relationship(secondary=template_groups, order_by=EndpointGroup.name,
                                                       lazy="selectin")

    @property
    def endpoint_ids(self) -> list[int]:
        return [e.id for e in self.endpoints]

    @property
    def group_ids(self) -> list[int]:
        return [g.id for g in self.groups]


def template_dict(template: MeetingTemplate) -> dict[str, Any]:
    return {"id": template.id, "name": template.name, "title": template.title,
            "duration_minutes": template.duration_minutes, "setup_minutes": template.setup_minutes,
            "endpoint_ids": template.endpoint_ids, "group_ids": template.group_ids,
            "host_endpoint_id": template.host_endpoint_id,
            "attendees": [dict(a) for a in template.attendees or []], "rrule": template.rrule,
            "description": template.description}


def list_templates(session: Session, user: User) -> list[MeetingTemplate]:
    """The templates *user* may use: her own (a secretary), every one (an administrator)."""
    query = select(MeetingTemplate).order_by(func.lower(MeetingTemplate.name), MeetingTemplate.id)
    owner = access.followed_template_owner(user)
    if owner is not None:
        query = query.where(MeetingTemplate.owner_id == owner)
    return list(session.scalars(query))


def get_template(session: Session, user: User, template_id: int) -> MeetingTemplate:
    """The template, or 404 — also for another secretary's template (its existence is not told)."""
    template = session.get(MeetingTemplate, template_id)
    if template is None or not access.may_use_template(user, template):
        raise NotFound.said(N_("Không có mẫu lịch họp số %(id)d."), id=template_id)
    return template


def usable_template(session: Session, user: User, template_id: int) -> MeetingTemplate:
    """For a booking: the template, or a field error on ``template_id`` (unknown or not the caller's)."""
    template = session.get(MeetingTemplate, template_id)
    if template is None or not access.may_use_template(user, template):
        raise InvalidInput.of([FieldError.of("template_id", "unknown", id=template_id)])
    return template


def _rows(session: Session, model: Any, ids: list[int]) -> tuple[list[Any], list[int]]:
    """The rows of *ids* (in that order, without repeats) and the ids that do not exist."""
    ids = list(dict.fromkeys(ids))
    found = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found], [i for i in ids if i not in found]


def _endpoints(session: Session, ids: list[int], errors: list[FieldError]) -> list[Endpoint]:
    if len(ids) > limits.MAX_GROUP_ENDPOINTS:
        errors.append(FieldError.of("endpoint_ids", "too_many", max_count=limits.MAX_GROUP_ENDPOINTS))
        return []
    rows, missing = _rows(session, Endpoint, ids)
    if missing:
        errors.append(FieldError.of("endpoint_ids", "unknown", ids=", ".join(map(str, missing))))
    return rows


def _groups(session: Session, ids: list[int], errors: list[FieldError]) -> list[EndpointGroup]:
    if len(ids) > limits.MAX_GROUP_ENDPOINTS:
        errors.append(FieldError.of("group_ids", "too_many", max_count=limits.MAX_GROUP_ENDPOINTS))
        return []
    rows, missing = _rows(session, EndpointGroup, ids)
    if missing:
        errors.append(FieldError.of("group_ids", "unknown", ids=", ".join(map(str, missing))))
    return rows


def _check(session: Session, settings: Settings, user: User, values: dict[str, Any],
           current: MeetingTemplate | None) -> dict[str, Any]:
    """*values* checked (only the given ones when *current* is set: PATCH), or ``InvalidInput``."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    given = set(values) if current is not None else set(FIELDS)
    if "name" in given:
        name = check_line(str(values.get("name") or ""), "name", errors, max_len=MAX_TEMPLATE_NAME_LENGTH)
        owner_id = current.owner_id if current is not None else user.id
        others = session.execute(select(MeetingTemplate.id, MeetingTemplate.name)
                                 .where(MeetingTemplate.owner_id == owner_id))
        if name and any(n.casefold() == name.casefold() for tid, n in others
                        if current is None or tid != current.id):
            errors.append(FieldError.of("name", "taken", value=name))
        out["name"] = name
    if "title" in given:
        out["title"] = check_line(str(values.get("title") or ""), "title", errors,
                                  max_len=limits.MAX_TITLE_LENGTH, required=False)
    if "description" in given:
        out["description"] = check_text(str(values.get("description") or ""), "description", errors,
                                        max_len=limits.MAX_DESCRIPTION_LENGTH)
    if "duration_minutes" in given:
        minutes = values.get("duration_minutes")
        high = int(settings.booking.max_duration_hours * 60)
        if minutes is not None and not limits.MIN_DURATION_MINUTES <= minutes <= high:
            errors.append(FieldError.of("duration_minutes", "out_of_range", low=limits.MIN_DURATION_MINUTES,
                                        high=high))
        out["duration_minutes"] = minutes
    if "setup_minutes" in given:
        setup = values.get("setup_minutes")
        if setup is not None:
            check_setup(settings, setup, errors)
        out["setup_minutes"] = setup
    if "endpoint_ids" in given:
        out["endpoints"] = _endpoints(session, values.get("endpoint_ids") or [], errors)
    if "group_ids" in given:
        out["groups"] = _groups(session, values.get("group_ids") or [], errors)
    if "attendees" in given:
        pairs = [(a.get("email", ""), a.get("name", "")) for a in values.get("attendees") or []]
        out["attendees"] = [{"email": e, "name": n} for e, n in check_attendees(pairs, errors)]
    if "rrule" in given:
        rule = (values.get("rrule") or "").strip() or None
        if rule is not None:
            try:
                rule = recurrence.normalise_rrule(rule, ZoneInfo(settings.timezone))
            except InvalidInput as exc:
                errors.extend(exc.errors)
        out["rrule"] = rule
    host = values.get("host_endpoint_id") if "host_endpoint_id" in given else (
        current.host_endpoint_id if current is not None else None)
    if host is not None and not errors:
        endpoints = out.get("endpoints", current.endpoints if current is not None else [])
        group_list = out.get("groups", current.groups if current is not None else [])
        chosen = {e.id for e in endpoints} | {eid for g in group_list for eid in g.endpoint_ids}
        if host not in chosen:
            errors.append(FieldError.of("host_endpoint_id", "not_chosen"))
    if "host_endpoint_id" in given:
        out["host_endpoint_id"] = host
    if errors:
        raise InvalidInput.of(errors)
    return out


def create_template(session: Session, settings: Settings, user: User, values: dict[str, Any]) -> MeetingTemplate:
    if not access.may_book(user):
        raise Forbidden.said(N_("Đặt lịch họp cần vai trò thư ký hoặc quản trị viên."))
    checked = _check(session, settings, user, values, None)
    now = clock.now()
    template = MeetingTemplate(owner_id=user.id, created_at=now, updated_at=now, **checked)
    session.add(template)
    session.flush()
    record(session, user.id, "template.create", "template", template.id, name=template.name)
    return template


def update_template(session: Session, settings: Settings, user: User, template: MeetingTemplate,
                    values: dict[str, Any]) -> MeetingTemplate:
    checked = _check(session, settings, user, values, template)
    for key, value in checked.items():
        setattr(template, key, value)
    template.updated_at = clock.now()
    session.flush()
    record(session, user.id, "template.update", "template", template.id, changes=sorted(values))
    return template


def delete_template(session: Session, user: User, template: MeetingTemplate) -> None:
    record(session, user.id, "template.delete", "template", template.id, name=template.name)
    session.delete(template)
    session.flush()


def request_defaults(template: MeetingTemplate, start: datetime | None) -> dict[str, Any]:
    """The booking request fields the template gives (in the request's shape); ``end`` from the
    template's duration when *start* is known."""
    out: dict[str, Any] = {
        "endpoint_ids": template.endpoint_ids, "group_ids": template.group_ids,
        "attendees": [dict(a) for a in template.attendees or []], "description": template.description,
    }
    if template.title or template.name:
        out["title"] = template.title or template.name
    for key in ("setup_minutes", "host_endpoint_id", "rrule"):
        if getattr(template, key) is not None:
            out[key] = getattr(template, key)
    if template.duration_minutes and start is not None:
        out["end"] = start + timedelta(minutes=template.duration_minutes)
    return out
