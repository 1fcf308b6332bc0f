"""Calendar (week and day views, filter by endpoint or site) and the endpoint availability grid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.api.common import db, get_settings
from confbridge.booking.conflicts import busy_intervals
from confbridge.booking.service import list_occurrences
from confbridge.directory.models import Site
from confbridge.directory.service import list_endpoints
from confbridge.errors import FieldError, InvalidInput
from confbridge.launch.models import ACTIVE_STATES, ConferenceRun
from confbridge.ui.format import MAX_YEAR, MIN_YEAR, DateOutOfRange, parse_date
from confbridge.ui.holiday_marks import holiday_marks
from confbridge.ui.i18n import user_zone
from confbridge.ui.roles import ANY_ROLE, SECRETARY_ROLES, page_roles

bp = Blueprint("calendar", __name__)
SLOT_MINUTES = 15


def live_occurrence_ids(session: Session, occurrence_ids: list[int]) -> set[int]:
    """Occurrences whose conference run is live right now (the launch engine's state)."""
    if not occurrence_ids:
        return set()
    rows = session.scalars(select(ConferenceRun.occurrence_id).where(
        ConferenceRun.occurrence_id.in_(occurrence_ids), ConferenceRun.state.in_(list(ACTIVE_STATES))))
    return {r for r in rows if r is not None}


def _day_arg(today: date) -> date:
    raw = request.args.get("date", "")
    try:
        return parse_date(raw) if raw else today
    except DateOutOfRange:  # weeks around year 1 or 9999 cannot be computed
        raise InvalidInput.of([
            FieldError.of("date", "out_of_range", value=raw[:40], low=MIN_YEAR, high=MAX_YEAR)]) from None
    except ValueError:
        return today


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


@bp.get("/calendar")
@page_roles(*ANY_ROLE)
def week() -> ResponseReturnValue:
    zone = user_zone()
    today = clock.now().astimezone(zone).date()
    day = _day_arg(today)
    view = "day" if request.args.get("view") == "day" else "week"
    first = day if view == "day" else day - timedelta(days=day.weekday())
    days = [first] if view == "day" else [first + timedelta(days=i) for i in range(7)]
    start = datetime.combine(days[0], time(0), tzinfo=zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=zone)
    endpoint_id, site_id = _int_arg("ep"), _int_arg("site")
    occurrences = list_occurrences(db(), start, end, endpoint_id=endpoint_id, site_id=site_id)
    live = live_occurrence_ids(db(), [o.id for o in occurrences])
    by_day: dict[date, list[Any]] = {d: [] for d in days}
    for occ in occurrences:
        local_day = occ.start.astimezone(zone).date()
        if local_day in by_day:
            status = "live" if occ.id in live else occ.status
            by_day[local_day].append((occ, status))
    step = timedelta(days=1 if view == "day" else 7)
    return render_template(
        "calendar/week.html", view=view, days=days, by_day=by_day, today=today, day=day,
        prev_day=day - step, next_day=day + step, endpoints=list_endpoints(db()),
        sites=list(db().scalars(select(Site).order_by(Site.name))), endpoint_id=endpoint_id, site_id=site_id,
        active_nav="calendar", week_number=first.isocalendar()[1], holidays=holiday_marks(days),
    )


@dataclass
class Segment:
    kind: str  # free | setup | busy
    span: int  # columns
    label: str = ""
    meeting_id: int | None = None
    start_col: int = 0


def _segments(intervals: list[Any], day_start: datetime, slots: int) -> list[Segment]:
    """One row of the grid: runs of free, setup and busy slots (busy wins over setup on overlap)."""
    if not intervals:  # most rows of a province's day: one free run, without a pass over every slot
        return [Segment("free", slots)]
    kinds = ["free"] * slots
    labels: list[tuple[str, int | None]] = [("", None)] * slots
    step = timedelta(minutes=SLOT_MINUTES)
    edges = [day_start + i * step for i in range(slots + 1)]
    for b in intervals:
        # Only the slots the interval can touch (its setup start to its end, one slot of margin): the
        # same tests as over the whole row, without a pass over every slot per interval.
        first = max(0, (min(b.window_start, b.start) - day_start) // step - 1)
        last = min(slots, (b.end - day_start) // step + 2)
        for i in range(first, last):
            s, e = edges[i], edges[i + 1]
            if b.start < e and b.end > s:
                kinds[i], labels[i] = "busy", (b.meeting_title, b.meeting_id)
            elif b.window_start < e and b.start > s and kinds[i] == "free":
                kinds[i], labels[i] = "setup", (b.meeting_title, b.meeting_id)
    out: list[Segment] = []
    for i in range(slots):
        if out and out[-1].kind == kinds[i] and (out[-1].label, out[-1].meeting_id) == labels[i]:
            out[-1].span += 1
        else:
            out.append(Segment(kinds[i], 1, labels[i][0], labels[i][1], i))
    return out


@bp.get("/availability")
@page_roles(*SECRETARY_ROLES)
def availability() -> ResponseReturnValue:
    zone = user_zone()
    now = clock.now()
    today = now.astimezone(zone).date()
    day = _day_arg(today)
    first_hour, last_hour = 6, 20
    day_start = datetime.combine(day, time(first_hour), tzinfo=zone)
    day_end = datetime.combine(day, time(last_hour), tzinfo=zone)
    slots = (last_hour - first_hour) * 60 // SLOT_MINUTES
    endpoints = list_endpoints(db())
    busy = busy_intervals(db(), get_settings(), [e.id for e in endpoints], day_start, day_end)
    rows = []
    for site, items in groupby(endpoints, key=lambda e: e.site.name):
        rows.append((site, [(ep, _segments(busy.get(ep.id, []), day_start, slots)) for ep in items]))
    now_col = None
    if day_start <= now < day_end:
        now_col = int((now - day_start).total_seconds() // (SLOT_MINUTES * 60))
    return render_template(
        "calendar/availability.html", day=day, today=today, rows=rows,
        hours=list(range(first_hour, last_hour)),
        slots_per_hour=60 // SLOT_MINUTES, now_col=now_col, prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1), active_nav="availability",
        settings_setup=get_settings().booking.default_setup_minutes, holiday=holiday_marks([day]).get(day),
    )
