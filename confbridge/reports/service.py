"""Report queries: call detail records, use, punctuality and reliability, availability.

All reports read a period's runs and legs with two flat Core queries (no ORM objects: a month at
national scale is tens of thousands of runs and hundreds of thousands of legs) and aggregate in Python.
Secretaries see the runs of their own meetings; admins and technicians see all
(``auth.access``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from confbridge import clock
from confbridge.alarms.models import Alarm
from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.booking.models import Meeting, Occurrence
from confbridge.directory.models import Endpoint, Site
from confbridge.errors import FieldError, Forbidden, InvalidInput
from confbridge.i18n import N_
from confbridge.launch.models import CallLeg, ConferenceRun, LegState, RunState
from confbridge.monitor.models import EndpointStatusHistory
from confbridge.reports.period import Period, office_seconds
from confbridge.settings import Settings

READERS = access.ANY_ROLE
GROUPINGS = ("endpoint", "site", "bridge", "organizer")


@dataclass
class Filters:
    endpoint_id: int | None = None
    site: str | None = None  # a site's id or its exact name


@dataclass
class LegRow:
    endpoint_id: int
    endpoint: str
    site: str
    attempts: int
    outcome: str
    reason: str | None
    first_connected_at: datetime | None
    connected_seconds: int
    drops: int
    first_connect_attempt: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint_id": self.endpoint_id, "endpoint": self.endpoint, "site": self.site,
            "attempts": self.attempts, "outcome": self.outcome, "reason": self.reason,
            "first_connected_at": _iso(self.first_connected_at), "connected_seconds": self.connected_seconds,
            "drops": self.drops,
        }


@dataclass
class RunRow:
    id: int
    meeting_id: int | None
    meeting: str
    organiser_id: int | None
    organiser: str
    occurrence_start: datetime | None
    occurrence_end: datetime | None
    planned_start: datetime
    planned_end: datetime
    first_call_at: datetime | None
    lateness_seconds: float | None
    ended_at: datetime | None
    bridge: str
    state: str
    late: bool
    legs: list[LegRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "meeting_id": self.meeting_id, "meeting": self.meeting, "organiser": self.organiser,
            "occurrence_start": _iso(self.occurrence_start), "planned_start": _iso(self.planned_start),
            "first_call_at": _iso(self.first_call_at), "lateness_seconds": self.lateness_seconds,
            "ended_at": _iso(self.ended_at), "bridge": self.bridge, "state": self.state,
            "legs": [leg.as_dict() for leg in self.legs],
        }

    def is_over(self, now: datetime) -> bool:
        return self.state in (RunState.ENDED, RunState.FAILED, RunState.MISSED) or self.planned_end <= now

    @property
    def booked_seconds(self) -> float:
        if self.occurrence_start is not None and self.occurrence_end is not None:
            return (self.occurrence_end - self.occurrence_start).total_seconds()
        return (self.planned_end - self.planned_start).total_seconds()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def check_reader(user: User) -> None:
    if user.role not in access.ANY_ROLE:
        raise Forbidden.said(N_("Báo cáo dành cho quản trị viên, kỹ thuật viên và thư ký."))


def _runs_query(user: User, period: Period, filters: Filters) -> Select[Any]:
    organiser = aliased(User)
    query = (
        select(ConferenceRun.id, ConferenceRun.meeting_id, Meeting.title, Meeting.organiser_id,
               organiser.username, organiser.display_name, Occurrence.start, Occurrence.end,
               ConferenceRun.planned_start, ConferenceRun.planned_end, ConferenceRun.first_call_at,
               ConferenceRun.lateness_ms, ConferenceRun.ended_at, ConferenceRun.bridge_name,
               ConferenceRun.state, ConferenceRun.late)
        .outerjoin(Meeting, Meeting.id == ConferenceRun.meeting_id)
        .outerjoin(organiser, organiser.id == Meeting.organiser_id)
        .outerjoin(Occurrence, Occurrence.id == ConferenceRun.occurrence_id)
        .where(ConferenceRun.planned_start >= period.start, ConferenceRun.planned_start < period.end)
        .order_by(ConferenceRun.planned_start, ConferenceRun.id)
    )
    organiser_id = access.followed_organiser(user)  # a secretary: her own meetings
    if organiser_id is not None:
        query = query.where(Meeting.organiser_id == organiser_id)
    leg_filter = _leg_filter(filters)
    if leg_filter is not None:
        query = query.where(exists().where(CallLeg.run_id == ConferenceRun.id, leg_filter))
    return query


def _leg_filter(filters: Filters) -> Any:
    conditions = []
    if filters.endpoint_id is not None:
        conditions.append(CallLeg.endpoint_id == filters.endpoint_id)
    if filters.site:
        site = (Site.id == int(filters.site)) if filters.site.isdigit() else (Site.name == filters.site)
        conditions.append(CallLeg.endpoint_id.in_(
            select(Endpoint.id).join(Site, Site.id == Endpoint.site_id).where(site)))
    return and_(*conditions) if conditions else None


@dataclass(frozen=True)
class Position:
    """Where a page of call detail records ends: the last run's planned start and id (keyset paging, so a
    page costs the same at the end of a national month as at its start)."""

    planned_start: datetime
    run_id: int


def fetch(session: Session, user: User, period: Period, filters: Filters | None = None, *,
          after: Position | None = None, limit: int | None = None) -> list[RunRow]:
    """The period's runs (by planned start) with every leg's final record; with *limit*, at most that many
    runs, those after *after*."""
    check_reader(user)
    filters = filters or Filters()
    runs: dict[int, RunRow] = {}
    query = _runs_query(user, period, filters)
    if after is not None:
        # The first condition bounds the index range; the second breaks ties at the boundary instant.
        query = query.where(ConferenceRun.planned_start >= after.planned_start,
                            or_(ConferenceRun.planned_start > after.planned_start, ConferenceRun.id > after.run_id))
    if limit is not None:
        query = query.limit(limit)
    for r in session.execute(query):
        runs[r[0]] = RunRow(
            id=r[0], meeting_id=r[1], meeting=r[2] or "", organiser_id=r[3],
            organiser=(r[5] or r[4] or ""), occurrence_start=r[6], occurrence_end=r[7], planned_start=r[8],
            planned_end=r[9], first_call_at=r[10], lateness_seconds=None if r[11] is None else r[11] / 1000,
            ended_at=r[12], bridge=r[13], state=r[14], late=bool(r[15]))
    if not runs:
        return []
    run_ids: Any = (list(runs) if limit is not None  # one page: its ids, not the period's query again
                    else _runs_query(user, period, filters).with_only_columns(ConferenceRun.id).order_by(None))
    legs = (
        select(CallLeg.run_id, CallLeg.endpoint_id, Endpoint.name, Site.name, CallLeg.attempts,
               CallLeg.first_connected_at, CallLeg.connected_seconds, CallLeg.drops, CallLeg.fail_reason,
               CallLeg.state, CallLeg.connected_at, CallLeg.first_connect_attempt)
        .join(Endpoint, Endpoint.id == CallLeg.endpoint_id)
        .join(Site, Site.id == Endpoint.site_id)
        .where(CallLeg.run_id.in_(run_ids))
        .order_by(CallLeg.run_id, CallLeg.endpoint_id)
    )
    leg_filter = _leg_filter(filters)
    if leg_filter is not None:
        legs = legs.where(leg_filter)
    now = clock.now()
    for (run_id, ep_id, ep_name, site, attempts, first_at, seconds, drops, reason, state, connected_at,
         first_attempt) in session.execute(legs):
        run = runs[run_id]
        seconds = seconds or 0
        if state == LegState.CONNECTED and connected_at is not None:
            until = min(run.ended_at or now, now)
            seconds += max(0, int((until - connected_at).total_seconds()))
        outcome = "connected" if first_at is not None else ("failed" if attempts else "not_dialled")
        run.legs.append(LegRow(
            endpoint_id=ep_id, endpoint=ep_name, site=site, attempts=attempts or 0, outcome=outcome,
            reason=reason if outcome == "failed" else None, first_connected_at=first_at,
            connected_seconds=seconds, drops=drops or 0, first_connect_attempt=first_attempt))
    return list(runs.values())


# ---- use ------------------------------------------------------------------------------------------
def usage(session: Session, settings: Settings, user: User, period: Period, by: str) -> list[dict[str, Any]]:
    """Meetings, booked and connected hours and the share of office hours used, per *by*.

    ``booked_hours``/``connected_hours`` are endpoint-hours (a meeting of one hour with 10 endpoints books
    10); ``meeting_hours`` the meetings' own length.  ``office_share``: for an endpoint or a site the
    connected hours over its endpoints' office hours; for a bridge or an organiser the meeting hours over
    the office hours (how much of the working time it held a meeting)."""
    if by not in GROUPINGS:
        raise InvalidInput.of([FieldError.of("by", "one_of", choices=", ".join(GROUPINGS))])
    runs = [r for r in fetch(session, user, period) if r.state != RunState.CANCELLED]
    office = office_seconds(period, settings.zone, settings.reports.office_day_start,
                            settings.reports.office_day_end)
    groups: dict[Any, dict[str, Any]] = {}

    def group(key: Any, name: str) -> dict[str, Any]:
        return groups.setdefault(key, {"key": key, "name": name, "runs": set(), "meeting_seconds": 0.0,
                                       "booked_seconds": 0.0, "connected_seconds": 0.0})

    for run in runs:
        booked = run.booked_seconds
        if by in ("bridge", "organizer"):
            key, name = ((run.bridge, run.bridge) if by == "bridge"
                         else (run.organiser_id, run.organiser or "—"))
            g = group(key, name)
            g["runs"].add(run.id)
            g["meeting_seconds"] += booked
            g["booked_seconds"] += booked * len(run.legs)
            g["connected_seconds"] += sum(leg.connected_seconds for leg in run.legs)
            continue
        seen: set[Any] = set()
        for leg in run.legs:
            key, name = (leg.endpoint_id, leg.endpoint) if by == "endpoint" else (leg.site, leg.site)
            g = group(key, name)
            if key not in seen:
                g["runs"].add(run.id)
                g["meeting_seconds"] += booked
                seen.add(key)
            g["booked_seconds"] += booked
            g["connected_seconds"] += leg.connected_seconds
    sizes = _site_sizes(session) if by == "site" else {}
    rows = []
    for g in groups.values():
        if by == "endpoint":
            share = g["connected_seconds"] / office if office else None
        elif by == "site":
            base = office * max(1, sizes.get(g["key"], 1))
            share = g["connected_seconds"] / base if base else None
        else:
            share = g["meeting_seconds"] / office if office else None
        rows.append({
            "key": g["key"], "name": g["name"], "meetings": len(g["runs"]),
            "meeting_hours": round(g["meeting_seconds"] / 3600, 2),
            "booked_hours": round(g["booked_seconds"] / 3600, 2),
            "connected_hours": round(g["connected_seconds"] / 3600, 2),
            "office_share": None if share is None else round(share, 4),
        })
    rows.sort(key=lambda row: (-row["connected_hours"], -row["meetings"], str(row["name"])))
    return rows


def _site_sizes(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Site.name, func.count(Endpoint.id)).join(Endpoint, Endpoint.site_id == Site.id)
                                .where(Endpoint.enabled.is_(True)).group_by(Site.name)).tuples().all())


# ---- punctuality and reliability ------------------------------------------------------------------
def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index], 1)


def reliability(session: Session, settings: Settings, user: User, period: Period) -> dict[str, Any]:
    runs = [r for r in fetch(session, user, period) if r.state != RunState.CANCELLED]
    late_after = settings.launch.late_after_seconds
    now = clock.now()
    launches = Counter[str]()
    to_all: list[float] = []
    not_all = 0
    legs_total = first_attempt = 0
    by_reason = Counter[str]()
    by_endpoint: dict[int, dict[str, Any]] = {}
    for run in runs:
        if run.first_call_at is None:
            if run.state == RunState.MISSED or run.is_over(now):
                launches["missed"] += 1
            else:
                launches["pending"] += 1
        elif run.late or (run.lateness_seconds or 0) > late_after:
            launches["late"] += 1
        else:
            launches["on_time"] += 1
        dialled = [leg for leg in run.legs if leg.outcome != "not_dialled"]
        for leg in dialled:
            legs_total += 1
            if leg.first_connect_attempt == 1:
                first_attempt += 1
            if leg.outcome == "failed":
                reason = leg.reason or "other"
                by_reason[reason] += 1
                entry = by_endpoint.setdefault(leg.endpoint_id, {
                    "endpoint_id": leg.endpoint_id, "endpoint": leg.endpoint, "site": leg.site, "failed": 0,
                    "reasons": Counter[str]()})
                entry["failed"] += 1
                entry["reasons"][reason] += 1
        if run.first_call_at is not None and dialled:
            if all(leg.first_connected_at is not None for leg in dialled):
                last = max(leg.first_connected_at for leg in dialled if leg.first_connected_at is not None)
                to_all.append(max(0.0, (last - run.first_call_at).total_seconds()))
            else:
                not_all += 1
    failures = sorted(by_endpoint.values(), key=lambda e: (-e["failed"], e["endpoint"]))
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "late_after_seconds": late_after,
        "launches": {"total": len(runs), "on_time": launches["on_time"], "late": launches["late"],
                     "missed": launches["missed"], "pending": launches["pending"]},
        "legs": {"dialled": legs_total, "connected_first_attempt": first_attempt,
                 "first_attempt_share": round(first_attempt / legs_total, 4) if legs_total else None},
        "failures_by_reason": dict(by_reason.most_common()),
        "failures_by_endpoint": [{**e, "reasons": dict(e["reasons"])} for e in failures],
        "time_to_all_connected": {"p50_seconds": _percentile(to_all, 0.5), "p90_seconds": _percentile(to_all, 0.9),
                                  "runs": len(to_all), "runs_not_all_connected": not_all},
        "endpoint_availability": endpoint_availability(session, period),
        "bridge_availability": bridge_availability(session, settings, period),
    }


def _clipped_seconds(rows: Any, period: Period, now: datetime) -> dict[Any, float]:
    total: dict[Any, float] = defaultdict(float)
    for key, started, ended in rows:
        lo = max(started, period.start)
        hi = min(ended or now, period.end, now)
        if hi > lo:
            total[key] += (hi - lo).total_seconds()
    return total


def _observed(period: Period, now: datetime) -> float:
    return max(0.0, (min(period.end, now) - period.start).total_seconds())


def endpoint_availability(session: Session, period: Period) -> list[dict[str, Any]]:
    """Per enabled endpoint: the share of the period (up to now) it was not offline (monitor history)."""
    now = clock.now()
    observed = _observed(period, now)
    h = EndpointStatusHistory
    offline = _clipped_seconds(session.execute(
        select(h.endpoint_id, h.started_at, h.ended_at).where(
            h.status == "offline", h.started_at < period.end, or_(h.ended_at.is_(None), h.ended_at > period.start))
    ).tuples(), period, now)
    rows = []
    for ep_id, name, site in session.execute(
            select(Endpoint.id, Endpoint.name, Site.name).join(Site, Site.id == Endpoint.site_id)
            .where(Endpoint.enabled.is_(True)).order_by(Endpoint.name)):
        seconds = offline.get(ep_id, 0.0)
        rows.append({"endpoint_id": ep_id, "endpoint": name, "site": site,
                     "offline_hours": round(seconds / 3600, 2),
                     "availability": round(1 - seconds / observed, 4) if observed else None})
    rows.sort(key=lambda r: (r["availability"] if r["availability"] is not None else 1, r["endpoint"]))
    return rows


def bridge_availability(session: Session, settings: Settings, period: Period) -> list[dict[str, Any]]:
    """Per configured bridge: the share of the period (up to now) without an open ``bridge_unreachable``."""
    now = clock.now()
    observed = _observed(period, now)
    down = _clipped_seconds(session.execute(
        select(Alarm.bridge_name, Alarm.raised_at, Alarm.cleared_at).where(
            Alarm.kind == "bridge_unreachable", Alarm.raised_at < period.end,
            or_(Alarm.cleared_at.is_(None), Alarm.cleared_at > period.start))
    ).tuples(), period, now)
    names = [b.name for b in settings.bridges] + sorted(set(down) - {b.name for b in settings.bridges})
    return [{"bridge": name, "unreachable_hours": round(down.get(name, 0.0) / 3600, 2),
             "availability": round(1 - down.get(name, 0.0) / observed, 4) if observed else None}
            for name in names if name]


def meetings_per_day(runs: list[RunRow], period: Period, settings: Settings) -> list[tuple[str, int]]:
    counts = Counter(r.planned_start.astimezone(settings.zone).date().isoformat() for r in runs
                     if r.state != RunState.CANCELLED)
    return [(day.isoformat(), counts.get(day.isoformat(), 0)) for day in period.days(settings.zone)]
