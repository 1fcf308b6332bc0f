"""Endpoint directory operations: create, change, disable, import (CSV/TOML)."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from confbridge.audit.models import record, values_of
from confbridge.directory import groups
from confbridge.directory.addresses import check_address
from confbridge.directory.models import PROTOCOLS, Endpoint, Site
from confbridge.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound
from confbridge.i18n import N_
from confbridge.text import check_email, check_line

FIELDS = ("name", "site", "protocol", "address", "seats", "enabled", "kind", "requires_approval")
# The room's local technician (issue 14): optional; the e-mail gets invitations and reminders.
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
_PHONE = re.compile(r"^[0-9+() .\-]{3,40}$")


def get_or_create_site(session: Session, name: str) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        site = Site(name=name)
        session.add(site)
        session.flush()
    return site


def get_endpoint(session: Session, endpoint_id: int) -> Endpoint:
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None:
        raise NotFound.said(N_("Không có điểm cầu số %(id)s."), id=endpoint_id)
    return endpoint


def list_endpoints(session: Session, *, include_disabled: bool = True) -> list[Endpoint]:
    query = select(Endpoint).join(Site).order_by(Site.name, Endpoint.name)
    if not include_disabled:
        query = query.where(Endpoint.enabled.is_(True))
    return list(session.scalars(query))


def _check(values: dict[str, Any], partial: bool, current_protocol: str | None = None) -> dict[str, Any]:
    line_errors: list[FieldError] = []
    out: dict[str, Any] = {}
    unknown = set(values) - set(FIELDS) - set(CONTACT_FIELDS)
    for key in sorted(unknown):
        line_errors.append(FieldError.of(key, "unknown_field"))
    if "name" in values or not partial:
        out["name"] = check_line(str(values.get("name") or ""), "name", line_errors, max_len=200)
    if "site" in values or not partial:
        out["site"] = check_line(str(values.get("site") or ""), "site", line_errors, max_len=200)
    if "kind" in values:
        out["kind"] = check_line(str(values.get("kind") or ""), "kind", line_errors, max_len=40, required=False)
    protocol = values.get("protocol")
    if "protocol" in values or not partial:
        if protocol not in PROTOCOLS:
            line_errors.append(FieldError.of("protocol", "one_of", choices="sip, h323"))
        out["protocol"] = protocol
    if "address" in values or not partial:
        # A bridge must be able to dial it: the one address rule (directory.addresses).
        proto = protocol if protocol in PROTOCOLS else current_protocol
        out["address"] = check_address(proto, str(values.get("address") or ""), "address", line_errors)
    if "seats" in values or not partial:
        seats = values.get("seats", 0)
        if isinstance(seats, bool) or not isinstance(seats, int):
            try:
                seats = int(str(seats).strip() or "0")
            except ValueError:
                line_errors.append(FieldError.of("seats", "not_integer"))
                seats = 0
        if not 0 <= seats <= 100000:
            line_errors.append(FieldError.of("seats", "out_of_range", low=0, high=100000))
        out["seats"] = seats
    if "enabled" in values:
        enabled = values["enabled"]
        if not isinstance(enabled, bool):
            line_errors.append(FieldError.of("enabled", "not_boolean"))
        out["enabled"] = enabled
    out.update(_check_contact(values, line_errors))
    if "requires_approval" in values:
        needs = values["requires_approval"]
        if not isinstance(needs, bool):
            line_errors.append(FieldError.of("requires_approval", "not_boolean"))
        out["requires_approval"] = needs
    if line_errors:
        raise InvalidInput.of(line_errors)
    return out


def _check_contact(values: dict[str, Any], errors: list[FieldError]) -> dict[str, str]:
    """contact_name / contact_email (the one e-mail rule, ``confbridge.text``) / contact_phone; "" clears."""
    out: dict[str, str] = {}
    if "contact_name" in values:
        out["contact_name"] = check_line(str(values["contact_name"] or ""), "contact_name", errors,
                                         max_len=200, required=False)
    if "contact_email" in values:
        email = str(values["contact_email"] or "").strip()
        out["contact_email"] = check_email(email, "contact_email", errors) if email else ""
    if "contact_phone" in values:
        phone = check_line(str(values["contact_phone"] or ""), "contact_phone", errors, max_len=40,
                           required=False)
        if phone and not _PHONE.match(phone):
            errors.append(FieldError.of("contact_phone", "bad_phone"))
        out["contact_phone"] = phone
    return out


def _unique(session: Session, name: str | None, address: str | None, exclude_id: int | None) -> None:
    if name:
        q = select(Endpoint.id).where(func.lower(Endpoint.name) == name.lower())
        if exclude_id:
            q = q.where(Endpoint.id != exclude_id)
        if session.scalar(q) is not None:
            raise Conflict.said(N_("Đã có điểm cầu tên “%(name)s”."),
                name=name, extra={"fields": {"name": "duplicate"}})
    if address:
        q = select(Endpoint.id).where(func.lower(Endpoint.address) == address.lower())
        if exclude_id:
            q = q.where(Endpoint.id != exclude_id)
        if session.scalar(q) is not None:
            raise Conflict.said(N_("Địa chỉ “%(address)s” đã được dùng."),
                address=address, extra={"fields": {"address": "duplicate"}})


def create_endpoint(session: Session, values: dict[str, Any], actor_id: int | None) -> Endpoint:
    data = _check(values, partial=False)
    _unique(session, data["name"], data["address"], None)
    endpoint = Endpoint(
        name=data["name"], site=get_or_create_site(session, data["site"]), protocol=data["protocol"],
        address=data["address"], seats=data["seats"], enabled=data.get("enabled", True),
        kind=data.get("kind", ""), requires_approval=data.get("requires_approval", False),
    )
    for key in CONTACT_FIELDS:
        setattr(endpoint, key, data.get(key, ""))
    session.add(endpoint)
    session.flush()
    record(session, actor_id, "endpoint.create", "endpoint", endpoint.id, name=endpoint.name)
    return endpoint


def update_endpoint(session: Session, endpoint: Endpoint, values: dict[str, Any], actor_id: int | None) -> Endpoint:
    data = _check(values, partial=True, current_protocol=endpoint.protocol) if values else {}
    _unique(session, data.get("name"), data.get("address"), endpoint.id)
    before = values_of(endpoint, data)
    if "site" in data:
        endpoint.site = get_or_create_site(session, data.pop("site"))
    for key in ("name", "protocol", "address", "seats", "enabled", "kind", "requires_approval", *CONTACT_FIELDS):
        if key in data:
            setattr(endpoint, key, data[key])
    session.flush()
    record(session, actor_id, "endpoint.update", "endpoint", endpoint.id, changes=sorted(values),
           before=before, after=values_of(endpoint, data))
    return endpoint


def disable_endpoint(session: Session, endpoint: Endpoint, actor_id: int | None) -> Endpoint:
    endpoint.enabled = False
    groups.drop_endpoint(session, endpoint.id)  # a deleted endpoint leaves every group
    session.flush()
    record(session, actor_id, "endpoint.disable", "endpoint", endpoint.id, name=endpoint.name)
    return endpoint


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[tuple[int, DomainError]] = field(default_factory=list)  # (row number, the refusal)

    def error_lines(self, locale: str | None) -> list[tuple[int, str]]:
        """(row number, what was wrong with it) in *locale*'s words; a field's error names its CSV column."""
        lines = []
        for number, exc in self.errors:
            if isinstance(exc, InvalidInput) and exc.errors:
                lines.append((number, "; ".join(f"{e.field}: {e.message(locale)}" for e in exc.errors)))
            else:
                lines.append((number, exc.text(locale)))
        return lines


def import_rows(session: Session, rows: list[dict[str, Any]], actor_id: int | None,
                first_row: int = 2) -> ImportReport:
    """Create or update endpoints (matched by address) row by row; a bad row is reported, not fatal."""
    report = ImportReport()
    for number, row in enumerate(rows, start=first_row):
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()
                  if k in FIELDS or k in CONTACT_FIELDS}
        if "enabled" in values and isinstance(values["enabled"], str):
            values["enabled"] = values["enabled"].lower() not in {"0", "false", "no", "không"}
        if isinstance(values.get("requires_approval"), str):
            values["requires_approval"] = values["requires_approval"].lower() in {"1", "true", "yes"}
        try:
            with session.begin_nested():
                existing = session.scalar(select(Endpoint).where(Endpoint.address == values.get("address")))
                if existing is None:
                    create_endpoint(session, values, actor_id)
                    report.created.append(str(values.get("name")))
                else:
                    update_endpoint(session, existing, values, actor_id)
                    report.updated.append(existing.name)
        except (InvalidInput, Conflict) as exc:
            report.errors.append((number, exc))
    return report


def import_csv(session: Session, text: str, actor_id: int | None) -> ImportReport:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"name", "site", "protocol", "address"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput.of([FieldError.of("file", "missing_columns", columns=", ".join(sorted(missing)))])
    return import_rows(session, list(reader), actor_id)


def import_toml(session: Session, path: Path, actor_id: int | None) -> ImportReport:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return import_rows(session, list(data.get("endpoints", [])), actor_id, first_row=1)
