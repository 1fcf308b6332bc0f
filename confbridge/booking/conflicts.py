"""Conflict, capacity and availability queries over ``endpoint_slots``.

A booking window is ``[start - setup, end)``.  Overlap is checked in SQL: the candidate windows are a
``VALUES`` list joined to the slots of the requested endpoints through the
``(endpoint_id, window_start, window_end)`` index, with a lower bound on ``window_start`` (no stored
window is longer than the longest possible meeting plus setup) so each probe is an index range seek.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, TextualSelect, column, or_, select, text
from sqlalchemy.orm import Session

from confbridge.booking.blackout_models import Blackout
from confbridge.booking.describe import WEEKDAY_NAMES, WEEKDAYS
from confbridge.db import UTCDateTime
from confbridge.i18n import N_, translate
from confbridge.limits import MAX_SETUP_MINUTES
from confbridge.settings import Settings

MAX_SETUP = timedelta(minutes=MAX_SETUP_MINUTES)

# The words of a refusal, said once for the REST API (409 bodies, the dry run) and the pages alike.
CONFLICT_TEXT = N_("%(endpoint)s đã có lịch %(start)s–%(end)s ngày %(date)s (%(weekday)s) của cuộc họp “%(title)s”")
CAPACITY_TEXT = N_("Cầu MCU “%(bridge)s” có %(ports)d cổng video: lúc %(time)s ngày %(date)s đã dùng %(used)d, "
                   "cần thêm %(more)d.")
MORE_TEXT = N_("và %(count)d mục khác")


def weekday_name(instant: datetime, locale: str | None) -> str:
    """'Thứ Hai' / 'Monday' for the local date of *instant*."""
    return translate(locale, WEEKDAY_NAMES[WEEKDAYS[instant.weekday()]])


@dataclass(frozen=True)
class Window:
    start: datetime  # window start (meeting start - setup)
    end: datetime


@dataclass(frozen=True)
class ConflictItem:
    endpoint_id: int
    endpoint_name: str
    meeting_id: int
    meeting_title: str
    occurrence_start: datetime  # the conflicting occurrence's RECURRENCE-ID
    start: datetime
    end: datetime
    window_start: datetime
    requested_start: datetime  # the window of ours that collides
    zone: str

    kind: ClassVar[str] = "booking"

    def text(self, locale: str | None, zone: ZoneInfo | None = None) -> str:
        """The conflict in *locale*'s words, times in *zone* (default: the conflicting meeting's zone)."""
        zone = zone or ZoneInfo(self.zone)
        ws, end = self.window_start.astimezone(zone), self.end.astimezone(zone)
        return translate(locale, CONFLICT_TEXT, endpoint=self.endpoint_name, start=f"{ws:%H:%M}",
                         end=f"{end:%H:%M}", date=f"{ws:%d/%m/%Y}", weekday=weekday_name(ws, locale),
                         title=self.meeting_title)

    def as_dict(self, locale: str | None = "en") -> dict[str, object]:
        return {
            "kind": self.kind, "endpoint_id": self.endpoint_id, "endpoint_name": self.endpoint_name,
            "meeting_id": self.meeting_id, "meeting_title": self.meeting_title,
            "occurrence_start": self.occurrence_start.isoformat(), "start": self.start.isoformat(),
            "end": self.end.isoformat(), "window_start": self.window_start.isoformat(),
            "message": self.text(locale),
        }


def refusal_lines(conflicts: Sequence[ConflictItem], capacity: Sequence[CapacityProblem], zone: ZoneInfo,
                  locale: str | None, *, limit: int, own_zone: bool = True) -> tuple[list[str], int]:
    """The first *limit* conflicts and capacity problems in words, and how many more there are.

    *own_zone*: a conflict's times in the conflicting meeting's zone (the API) or all in *zone* (a page)."""
    lines = [c.text(locale, None if own_zone else zone) for c in conflicts]
    lines += [p.text(locale, zone) for p in capacity]
    return lines[:limit], max(0, len(lines) - limit)


def refusal_summary(conflicts: Sequence[ConflictItem], capacity: Sequence[CapacityProblem], zone: ZoneInfo,
                    locale: str | None, limit: int = 8) -> str:
    """One line naming a refusal's reasons, "; and N more" when there are many."""
    lines, more = refusal_lines(conflicts, capacity, zone, locale, limit=limit)
    if more:
        lines.append(translate(locale, MORE_TEXT, count=more))
    return "; ".join(lines)


BLACKOUT_TEXT = N_("%(target)s ngừng phục vụ %(start)s–%(end)s (bảo trì: %(reason)s)")


@dataclass(frozen=True)
class BlackoutConflict(ConflictItem):
    """A blackout window of a booked endpoint or of the meeting's bridge that one of our windows
    overlaps (``meeting_*`` are empty; ``endpoint_id`` is 0 for a bridge's blackout)."""

    blackout_id: int = 0
    bridge_name: str | None = None
    reason: str = ""

    kind: ClassVar[str] = "blackout"

    def text(self, locale: str | None, zone: ZoneInfo | None = None) -> str:
        """The blackout in *locale*'s words, times in *zone* (default: the configured zone)."""
        zone = zone or ZoneInfo(self.zone)
        start, end = self.start.astimezone(zone), self.end.astimezone(zone)
        target = self.endpoint_name if self.bridge_name is None else f"MCU {self.bridge_name}"
        return translate(locale, BLACKOUT_TEXT, target=target, start=f"{start:%H:%M %d/%m/%Y}",
                         end=f"{end:%H:%M %d/%m/%Y}", reason=self.reason or "—")

    def as_dict(self, locale: str | None = "en") -> dict[str, object]:
        return {
            "kind": self.kind, "blackout_id": self.blackout_id,
            "endpoint_id": self.endpoint_id or None, "endpoint_name": self.endpoint_name or None,
            "bridge_name": self.bridge_name, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "reason": self.reason, "requested_start": self.requested_start.isoformat(),
            "message": self.text(locale),
        }


def blackout_conflicts(
    session: Session, settings: Settings, endpoint_ids: Sequence[int], bridge_name: str | None,
    windows: Sequence[Window], *, limit: int = 1000,
) -> list[BlackoutConflict]:
    """Blackouts of *endpoint_ids* or of the bridge (*bridge_name*; None: the default bridge) that
    overlap one of *windows*: one item per (blackout, first window it meets)."""
    if not windows:
        return []
    from confbridge.directory.models import Endpoint

    bridge = settings.bridge(bridge_name)
    targets: list[ColumnElement[bool]] = []
    if endpoint_ids:
        targets.append(Blackout.endpoint_id.in_([int(i) for i in endpoint_ids]))
    if bridge is not None:
        targets.append(Blackout.bridge_name == bridge.name)
    if not targets:
        return []
    lo, hi = min(w.start for w in windows), max(w.end for w in windows)
    rows = session.execute(
        select(Blackout, Endpoint.name).outerjoin(Endpoint, Endpoint.id == Blackout.endpoint_id)
        .where(or_(*targets), Blackout.start < hi, Blackout.end > lo).order_by(Blackout.start, Blackout.id)
    ).all()
    out: list[BlackoutConflict] = []
    ordered = sorted(windows, key=lambda w: w.start)
    for blackout, ep_name in rows:
        hit = next((w for w in ordered if w.start < blackout.end and w.end > blackout.start), None)
        if hit is None:
            continue
        out.append(BlackoutConflict(
            endpoint_id=blackout.endpoint_id or 0, endpoint_name=ep_name or "", meeting_id=0, meeting_title="",
            occurrence_start=hit.start, start=blackout.start, end=blackout.end, window_start=blackout.start,
            requested_start=hit.start, zone=settings.timezone, blackout_id=blackout.id,
            bridge_name=blackout.bridge_name, reason=blackout.reason,
        ))
        if len(out) >= limit:
            break
    return out


def _max_window(settings: Settings) -> timedelta:
    return timedelta(hours=settings.booking.max_duration_hours) + MAX_SETUP


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _windows_cte(n_windows: int, postgres: bool) -> str:
    """The candidate windows as a CTE ``w(idx, ws, we, lo)``.

    On PostgreSQL the windows are four bound arrays: the statement's text is then the same for every
    call, so psycopg prepares it once per connection (no parse or plan per check) and does not re-split
    a text of 160 placeholders each time.  SQLite has no arrays: a ``VALUES`` list of bound values.
    """
    if postgres:
        return ("w(idx, ws, we, lo) AS (SELECT * FROM unnest(CAST(:w_idx AS integer[]), "
                "CAST(:w_s AS timestamptz[]), CAST(:w_e AS timestamptz[]), CAST(:w_l AS timestamptz[])))")
    return "w(idx, ws, we, lo) AS (VALUES " + ", ".join(f"(:i{k}, :s{k}, :e{k}, :l{k})" for k in range(n_windows)) + ")"


def _endpoints_cte(endpoint_ids: Sequence[int], postgres: bool) -> str:
    """The requested endpoints as a CTE ``ep(id)`` (an array on PostgreSQL, int-cast values on SQLite)."""
    if postgres:
        return "ep(id) AS (SELECT unnest(CAST(:ep_ids AS integer[])))"
    return "ep(id) AS (VALUES " + ", ".join(f"({int(i)})" for i in endpoint_ids) + ")"


def _overlap_sql(n_windows: int, slot_filter: str, columns: str, joins: str = "", extra: str = "",
                 endpoint_ids: Sequence[int] = (), postgres: bool = False) -> str:
    """The windows as a CTE joined to ``endpoint_slots`` through an index range per window.

    Hand-written SQL (bound values, statement objects cached by text): compiling the equivalent Core
    construct with a VALUES clause cost ~20 ms per call, twenty times the query itself.  Endpoints are a
    second list joined by equality, so every (window, endpoint) pair is one index range probe —
    with ``endpoint_id IN (…)`` PostgreSQL preferred to read every slot of those endpoints.
    """
    ctes = "WITH " + _windows_cte(n_windows, postgres)
    source = "w"
    if endpoint_ids:
        ctes += ", " + _endpoints_cte(endpoint_ids, postgres)
        source = "w CROSS JOIN ep"
    # Only placeholders and int-cast ids are formatted in; every value is bound.
    return (
        f"{ctes} SELECT {columns} FROM {source} JOIN endpoint_slots s ON {slot_filter} "  # noqa: S608
        "AND s.window_start < w.we AND s.window_start > w.lo AND s.window_end > w.ws "
        f"{joins} {extra}"
    )


def _exclusions(meetings: list[int], occurrences: list[int]) -> str:
    out = ""
    if meetings:
        out += " AND s.meeting_id NOT IN (" + ",".join(str(int(m)) for m in meetings) + ")"
    if occurrences:
        out += " AND s.occurrence_id NOT IN (" + ",".join(str(int(o)) for o in occurrences) + ")"
    return out


def _instant(session: Session, value: datetime) -> object:
    """A bound instant as ``UTCDateTime`` stores it (SQLite: fixed-width naive UTC text, so that string
    comparison is time comparison; PostgreSQL: an aware datetime)."""
    if session.get_bind().dialect.name == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _window_params(session: Session, windows: Sequence[Window], settings: Settings, *,
                   endpoint_ids: Sequence[int] = (), arrays: bool = False) -> dict[str, object]:
    """Bound values for *windows*: one scalar per window and bound (``i0, s0, e0, l0, …``), or with
    *arrays* (PostgreSQL's multi-window form, see ``_windows_cte``) four arrays; on PostgreSQL also the
    endpoint ids as one array."""
    # Plain parameters, not typed bindparam objects: building 160 of those per call cost more than the
    # query itself.
    span = _max_window(settings)
    params: dict[str, object] = {}
    postgres = _is_postgres(session)
    if postgres and endpoint_ids:
        params["ep_ids"] = [int(i) for i in endpoint_ids]
    if arrays:
        params["w_idx"] = list(range(len(windows)))
        params["w_s"] = [w.start for w in windows]
        params["w_e"] = [w.end for w in windows]
        params["w_l"] = [w.start - span for w in windows]
        return params
    for k, w in enumerate(windows):
        params[f"i{k}"] = k
        params[f"s{k}"] = _instant(session, w.start)
        params[f"e{k}"] = _instant(session, w.end)
        params[f"l{k}"] = _instant(session, w.start - span)
    return params


_INSTANT_COLUMNS = frozenset({"original_start", "start", "end", "window_start", "window_end"})
_INT_COLUMNS = frozenset({"idx", "endpoint_id", "meeting_id"})


@lru_cache(maxsize=512)
def _statement(sql: str, names: tuple[str, ...], postgres: bool) -> TextualSelect:
    """A text statement with typed result columns, built once per SQL text: building one parses its
    placeholders with a regular expression (~1 ms for 160 of them) and its cache key is then reused.

    On PostgreSQL the instants are left to the driver: every connection runs with ``timezone=UTC``
    (``db.make_engine``), so psycopg already returns aware UTC datetimes, and ``UTCDateTime``'s check of
    each value was a third of an availability query's time (three instants × hundreds of rows)."""
    instant = None if postgres else UTCDateTime()
    columns = [column(n, Integer) if n in _INT_COLUMNS else column(n, instant) if n in _INSTANT_COLUMNS
               else column(n) for n in names]
    return text(sql).columns(*columns)


def _slot_query(
    session: Session, settings: Settings, endpoint_ids: list[int], windows: Sequence[Window], columns: str,
    exclusions: str = "", order: str = "",
) -> tuple[str, dict[str, object]]:
    """Slots of *endpoint_ids* overlapping *windows*, joined to their occurrence (o), meeting (m) and
    endpoint (e); ``w.idx`` names the window each row overlaps.  Returns the SQL and its bound values."""
    postgres = _is_postgres(session)
    if postgres:
        # Each slot's occurrence and meeting by primary key, one probe per slot (LATERAL, kept by OFFSET
        # 0): joined plainly, PostgreSQL hashed every occurrence and meeting (sequential scans of
        # 100,000 rows) for a week's 600 slots, 7 of an availability read's 9 ms (p99 20 → 10 ms).
        details = (" CROSS JOIN LATERAL (SELECT * FROM occurrences o WHERE o.id = s.occurrence_id OFFSET 0) o"
                   " CROSS JOIN LATERAL (SELECT * FROM meetings m WHERE m.id = s.meeting_id OFFSET 0) m")
    else:
        details = " JOIN occurrences o ON o.id = s.occurrence_id JOIN meetings m ON m.id = s.meeting_id"
    # The endpoint's row only when its columns are read (every slot's endpoint exists: a foreign key).
    endpoint_join = " JOIN endpoints e ON e.id = s.endpoint_id" if re.search(r"\be\.", columns + order) else ""
    if len(windows) == 1:
        # One window (availability): plain bounds let both planners use the index directly.
        ids = ("= ANY(CAST(:ep_ids AS integer[]))" if postgres
               else "IN (" + ",".join(str(int(i)) for i in endpoint_ids) + ")")
        sql = (
            f"SELECT {columns.replace('w.idx', ':i0')} FROM endpoint_slots s{details}{endpoint_join} "  # noqa: S608
            f"WHERE s.endpoint_id {ids} AND s.window_start < :e0 AND s.window_start > :l0 "
            f"AND s.window_end > :s0{exclusions}{order}"
        )
        return sql, _window_params(session, windows, settings, endpoint_ids=endpoint_ids)
    if postgres:
        # PostgreSQL cannot estimate ranges bound by a list of windows and preferred reading every slot of
        # the endpoints; LATERAL (kept by OFFSET 0) makes each (window, endpoint) pair one index range probe.
        # The endpoint's row is joined to ep, outside the probes: joined to the slots, it was read again
        # (all of the table, hashed) inside every probe.
        ctes = f"WITH {_windows_cte(len(windows), True)}, {_endpoints_cte(endpoint_ids, True)}"
        ep_rows = endpoint_join.replace("s.endpoint_id", "ep.id")
        sql = (
            f"{ctes} SELECT {columns} FROM w CROSS JOIN ep{ep_rows} CROSS JOIN LATERAL (SELECT "  # noqa: S608
            "s.occurrence_id, s.meeting_id, s.endpoint_id, s.window_start, s.window_end FROM endpoint_slots s "
            "WHERE s.endpoint_id = ep.id AND s.window_start < w.we AND s.window_start > w.lo "
            f"AND s.window_end > w.ws{exclusions} OFFSET 0) s{details}{order}"
        )
        return sql, _window_params(session, windows, settings, endpoint_ids=endpoint_ids, arrays=True)
    sql = _overlap_sql(len(windows), "s.endpoint_id = ep.id", columns, details + endpoint_join,
                       "WHERE 1=1" + exclusions + order, endpoint_ids=endpoint_ids)
    return sql, _window_params(session, windows, settings)


def find_conflicts(
    session: Session, settings: Settings, endpoint_ids: Iterable[int], windows: Sequence[Window], *,
    exclude_meeting_ids: Iterable[int] = (), exclude_occurrence_ids: Iterable[int] = (),
    limit: int = 1000, bridge_name: str | None = None,
) -> list[ConflictItem]:
    """Every stored slot of *endpoint_ids* overlapping one of *windows* (half-open intervals), then
    every blackout of those endpoints or of the bridge *bridge_name* (None: the default bridge) that
    one of the windows overlaps (kind ``blackout``)."""
    ids = [int(i) for i in endpoint_ids]
    if not ids or not windows:
        return []
    blackouts: list[ConflictItem] = list(blackout_conflicts(session, settings, ids, bridge_name, windows))
    sql, params = _slot_query(
        session, settings, ids, windows,
        "w.idx, s.endpoint_id, e.name, m.id, m.title, m.timezone, o.original_start, o.start, o.\"end\", "
        "s.window_start",
        _exclusions(list(exclude_meeting_ids), list(exclude_occurrence_ids)),
        f" ORDER BY s.window_start, e.name LIMIT {int(limit)}",
    )
    stmt = _statement(sql, ("idx", "endpoint_id", "name", "meeting_id", "title", "timezone", "original_start",
                            "start", "end", "window_start"), _is_postgres(session))
    out: list[ConflictItem] = []
    seen: set[tuple[int, int, datetime]] = set()
    rows = session.execute(stmt, params).all()
    for idx, ep_id, ep_name, m_id, m_title, zone, orig, start, end, wstart in rows:
        key = (ep_id, m_id, orig)
        if key in seen:
            continue
        seen.add(key)
        out.append(ConflictItem(
            endpoint_id=ep_id, endpoint_name=ep_name, meeting_id=m_id, meeting_title=m_title,
            occurrence_start=orig, start=start, end=end, window_start=wstart,
            requested_start=windows[idx].start, zone=zone,
        ))
    return out + blackouts


@dataclass(frozen=True)
class CapacityProblem:
    bridge_name: str
    window: Window
    in_use: int
    requested: int
    ports: int

    def text(self, locale: str | None, zone: ZoneInfo) -> str:
        """The problem in *locale*'s words, the time in *zone*."""
        ws = self.window.start.astimezone(zone)
        return translate(locale, CAPACITY_TEXT, bridge=self.bridge_name, ports=self.ports, time=f"{ws:%H:%M}",
                         date=f"{ws:%d/%m/%Y}", used=self.in_use, more=self.requested)

    def as_dict(self, zone: ZoneInfo, locale: str | None = "en") -> dict[str, object]:
        """The one JSON shape of a capacity problem (409 bodies and the dry run alike)."""
        return {
            "bridge_name": self.bridge_name, "window_start": self.window.start.isoformat(),
            "window_end": self.window.end.isoformat(), "in_use": self.in_use, "requested": self.requested,
            "ports": self.ports, "message": self.text(locale, zone),
        }


def check_capacity(
    session: Session, settings: Settings, bridge_name: str | None, windows: Sequence[Window],
    requested: int, *, exclude_meeting_ids: Iterable[int] = (), exclude_occurrence_ids: Iterable[int] = (),
) -> list[CapacityProblem]:
    """Windows in which the bridge would need more ports than it has (one port per endpoint).

    First a count of overlapping slots per window (an upper bound of the peak, cheap); only windows
    whose count leaves too few ports are swept exactly.
    """
    bridge = settings.bridge(bridge_name)
    if bridge is None or bridge.video_ports is None or not windows:
        return []
    ports = bridge.video_ports
    exclusions = _exclusions(list(exclude_meeting_ids), list(exclude_occurrence_ids))
    postgres = _is_postgres(session)
    count_sql = _overlap_sql(len(windows), "s.bridge_name = :bridge", "w.idx, COUNT(*)", "",
                             "WHERE 1=1" + exclusions + " GROUP BY w.idx", postgres=postgres)
    params = {**_window_params(session, windows, settings, arrays=postgres), "bridge": bridge.name}
    crowded = [idx for idx, n in session.execute(_statement(count_sql, ("idx", "count"), postgres), params)
               if n + requested > ports]
    if not crowded:
        return []
    subset = [windows[i] for i in crowded]
    detail_sql = _overlap_sql(len(subset), "s.bridge_name = :bridge", "w.idx, s.window_start, s.window_end",
                              "", "WHERE 1=1" + exclusions, postgres=postgres)
    detail = _statement(detail_sql, ("idx", "window_start", "window_end"), postgres)
    detail_params = {**_window_params(session, subset, settings, arrays=postgres), "bridge": bridge.name}
    per_window: dict[int, list[tuple[datetime, datetime]]] = {}
    for idx, ws, we in session.execute(detail, detail_params):
        per_window.setdefault(idx, []).append((ws, we))
    problems = []
    for idx, intervals in per_window.items():
        peak = peak_concurrency(intervals, subset[idx])
        if peak + requested > ports:
            problems.append(CapacityProblem(bridge.name, subset[idx], peak, requested, ports))
    return problems


def peak_concurrency(intervals: Iterable[tuple[datetime, datetime]], window: Window) -> int:
    """Largest number of *intervals* open at one instant inside *window* (half-open)."""
    events: list[tuple[datetime, int]] = []
    for start, end in intervals:
        s, e = max(start, window.start), min(end, window.end)
        if s < e:
            events.append((s, 1))
            events.append((e, -1))
    events.sort(key=lambda ev: (ev[0], ev[1]))  # ends (-1) before starts at the same instant
    peak = current = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


@dataclass(frozen=True)
class BusyInterval:
    endpoint_id: int
    window_start: datetime
    start: datetime
    end: datetime
    meeting_id: int
    meeting_title: str
    occurrence_start: datetime


def busy_intervals(
    session: Session, settings: Settings, endpoint_ids: Sequence[int], start: datetime, end: datetime,
) -> dict[int, list[BusyInterval]]:
    """Busy intervals per endpoint overlapping ``[start, end)``, ordered by time."""
    out: dict[int, list[BusyInterval]] = {eid: [] for eid in endpoint_ids}
    if not endpoint_ids:
        return out
    window = [Window(start, end)]
    sql, params = _slot_query(
        session, settings, [int(i) for i in endpoint_ids], window,
        "s.endpoint_id, s.window_start, o.start, s.window_end, m.id, m.title, o.original_start",
        order=" ORDER BY s.endpoint_id, s.window_start",
    )
    query = _statement(sql, ("endpoint_id", "window_start", "start", "window_end", "meeting_id", "title",
                             "original_start"), _is_postgres(session))
    rows = session.execute(query, params).all()
    for ep_id, ws, occ_start, we, m_id, title, orig in rows:
        out[ep_id].append(BusyInterval(ep_id, ws, occ_start, we, m_id, title, orig))
    return out


def next_free_slot(
    session: Session, settings: Settings, endpoint_ids: Sequence[int], *, after: datetime,
    duration: timedelta, setup: timedelta, zone: ZoneInfo, day_start_hour: int = 7, day_end_hour: int = 18,
    search_days: int = 14, step: timedelta = timedelta(minutes=15), exclude_meeting_ids: Iterable[int] = (),
    bridge_name: str | None = None,
) -> datetime | None:
    """Earliest meeting start ≥ *after* (working hours in *zone*) at which every endpoint is free (and
    neither an endpoint nor the bridge *bridge_name* — None: the default — is blacked out)."""
    horizon = after + timedelta(days=search_days)
    busy = busy_intervals(session, settings, endpoint_ids, after - setup, horizon)
    excluded = set(exclude_meeting_ids)
    intervals = sorted(
        [(b.window_start, b.end) for items in busy.values() for b in items if b.meeting_id not in excluded]
        + [(c.start, c.end) for c in blackout_conflicts(session, settings, endpoint_ids, bridge_name,
                                                         [Window(after - setup, horizon)])]
    )
    candidate = _align(after, step, zone)
    while candidate < horizon:
        local = candidate.astimezone(zone)
        day_open = local.replace(hour=day_start_hour, minute=0, second=0, microsecond=0)
        day_close = local.replace(hour=day_end_hour, minute=0, second=0, microsecond=0)
        if local < day_open:
            candidate = day_open.astimezone(candidate.tzinfo)
            continue
        if local + duration > day_close:
            candidate = (day_open + timedelta(days=1)).astimezone(candidate.tzinfo)
            continue
        ws, we = candidate - setup, candidate + duration
        clash = next((iv for iv in intervals if iv[0] < we and iv[1] > ws), None)
        if clash is None:
            return candidate
        candidate = _align(max(candidate + step, clash[1] + setup), step, zone)
    return None


def _align(instant: datetime, step: timedelta, zone: ZoneInfo) -> datetime:
    local = instant.astimezone(zone)
    minutes = int(step.total_seconds() // 60) or 1
    extra = (local.minute % minutes, local.second, local.microsecond)
    if extra == (0, 0, 0):
        return instant
    aligned = local.replace(second=0, microsecond=0) + timedelta(minutes=minutes - local.minute % minutes)
    return aligned.astimezone(instant.tzinfo)
