"""Endpoint groups (nhóm điểm cầu): a named set of endpoints booked together in one click
("Giao ban với 15 UBND huyện", "Các sở, ngành").

A group is a directory record like an endpoint: administrators manage it, every signed-in role reads it.
Booking with ``group_ids`` books the union of the groups' endpoints *as they are at that moment*; the
meeting keeps its own endpoint list, so changing or deleting a group never touches a meeting already
booked.  Disabling (deleting) an endpoint removes it from every group (:func:`drop_endpoint`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from confbridge import clock, limits
from confbridge.audit.models import record
from confbridge.db import Base, UTCDateTime
from confbridge.directory.choice import chosen_endpoints
from confbridge.directory.models import Endpoint
from confbridge.errors import FieldError, InvalidInput, NotFound
from confbridge.i18n import N_
from confbridge.text import check_line

MAX_GROUP_NAME_LENGTH = 200

endpoint_group_members = Table(
    "endpoint_group_members",
    Base.metadata,
    Column("group_id", ForeignKey("endpoint_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("endpoint_id", ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class EndpointGroup(Base):
    __tablename__ = "endpoint_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_GROUP_NAME_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    endpoints: Mapped[list[Endpoint]] = relationship(
        secondary=endpoint_group_members, order_by=Endpoint.name, lazy="selectin")

    @property
    def endpoint_ids(self) -> list[int]:
        return [e.id for e in self.endpoints]


def group_dict(group: EndpointGroup) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "endpoint_ids": group.endpoint_ids}


def list_groups(session: Session) -> list[EndpointGroup]:
    return list(session.scalars(select(EndpointGroup).order_by(EndpointGroup.name)))


def get_group(session: Session, group_id: int) -> EndpointGroup:
    group = session.get(EndpointGroup, group_id)
    if group is None:
        raise NotFound.said(N_("Không có nhóm điểm cầu số %(id)d."), id=group_id)
    return group


def _check(session: Session, values: dict[str, Any], current: EndpointGroup | None,
           errors: list[FieldError]) -> tuple[str | None, list[Endpoint] | None]:
    name: str | None = None
    if "name" in values or current is None:
        name = check_line(str(values.get("name") or ""), "name", errors, max_len=MAX_GROUP_NAME_LENGTH)
        # Case-insensitive in Vietnamese too (SQLite's lower() folds ASCII only): compared here.
        others = session.execute(select(EndpointGroup.id, EndpointGroup.name))
        if name and any(n.casefold() == name.casefold() for gid, n in others
                        if current is None or gid != current.id):
            errors.append(FieldError.of("name", "taken", value=name))
    endpoints: list[Endpoint] | None = None
    if "endpoint_ids" in values or current is None:
        ids = list(dict.fromkeys(values.get("endpoint_ids") or []))
        if len(ids) > limits.MAX_GROUP_ENDPOINTS:
            errors.append(FieldError.of("endpoint_ids", "too_many", max_count=limits.MAX_GROUP_ENDPOINTS))
            return name, None
        endpoints = chosen_endpoints(session, ids, errors)
    return name, endpoints


def create_group(session: Session, values: dict[str, Any], actor_id: int | None) -> EndpointGroup:
    errors: list[FieldError] = []
    name, endpoints = _check(session, values, None, errors)
    if errors:
        raise InvalidInput.of(errors)
    group = EndpointGroup(name=name, endpoints=endpoints or [])
    session.add(group)
    session.flush()
    record(session, actor_id, "endpoint_group.create", "endpoint_group", group.id, name=group.name,
           endpoints=group.endpoint_ids)
    return group


def update_group(session: Session, group: EndpointGroup, values: dict[str, Any],
                 actor_id: int | None) -> EndpointGroup:
    errors: list[FieldError] = []
    name, endpoints = _check(session, values, group, errors)
    if errors:
        raise InvalidInput.of(errors)
    before = group_dict(group)
    if name is not None:
        group.name = name
    if endpoints is not None:
        group.endpoints = endpoints
    session.flush()
    record(session, actor_id, "endpoint_group.update", "endpoint_group", group.id, changes=sorted(values),
           before={k: before[k] for k in ("name", "endpoint_ids")},
           after={"name": group.name, "endpoint_ids": group.endpoint_ids})
    return group


def delete_group(session: Session, group: EndpointGroup, actor_id: int | None) -> None:
    """Delete the group.  Meetings booked with it keep their endpoints (they never pointed at it)."""
    record(session, actor_id, "endpoint_group.delete", "endpoint_group", group.id, name=group.name,
           endpoints=group.endpoint_ids)
    session.delete(group)
    session.flush()


def drop_endpoint(session: Session, endpoint_id: int) -> None:
    """An endpoint that is deleted (disabled) leaves every group."""
    session.execute(delete(endpoint_group_members).where(endpoint_group_members.c.endpoint_id == endpoint_id))
    for group in session.identity_map.values():
        if isinstance(group, EndpointGroup):
            session.expire(group, ["endpoints"])


def resolve(session: Session, group_ids: list[int]) -> list[int]:
    """The endpoint ids of *group_ids* (union, in group then name order), or a field error naming the
    unknown groups."""
    ids = list(dict.fromkeys(group_ids))
    if not ids:
        return []
    found = {g.id: g for g in session.scalars(select(EndpointGroup).where(EndpointGroup.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput.of([FieldError.of("group_ids", "unknown", ids=", ".join(map(str, missing)))])
    return list(dict.fromkeys(eid for gid in ids for eid in found[gid].endpoint_ids))
