"""``monitor_tick``: poll the bridges and the probe, store one status per endpoint, raise/clear alarms.

Run by the active scheduler every ``monitor.poll_seconds`` (and at once when a bridge's feedback event
hints that something changed).  Reads happen in a short read transaction, remote calls (bridge
enumeration, probes) outside any transaction, and the verdicts in one write transaction; the
``endpoint.status`` and ``alarm`` events are published after that commit.

The launch engine owns the call legs (it redials, it raises ``dial_failed``); the monitor only reads
them.  It raises ``call_dropped`` itself too (same key as the launch engine, so never twice) because it
may see the drop first, ``packet_loss`` for critical loss, and ``endpoint_offline`` for an unreachable
endpoint booked within ``monitor.offline_alarm_minutes``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock, notices
from confbridge.alarms.models import Alarm
from confbridge.alarms.service import clear_alarm, raise_alarm
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.bridges.base import BridgeDriver, ParticipantInfo
from confbridge.bridges.view import ParticipantView
from confbridge.db import chunked, unit_of_work
from confbridge.directory.models import Endpoint
from confbridge.events import queue_event
from confbridge.launch.models import ACTIVE_STATES, CallLeg, ConferenceRun, SchedulerLease
from confbridge.monitor.models import EndpointStatus, EndpointStatusHistory
from confbridge.monitor.probes import Probe, make_probe
from confbridge.monitor.status import IN_CALL, call_status, idle_status
from confbridge.settings import Settings

log = logging.getLogger(__name__)
NOT_A_DROP = {"operator", "ended"}
Reports = dict[str, dict[tuple[str, str], ParticipantInfo]]


@dataclass(frozen=True)
class _Leg:
    run_id: int
    meeting_id: int | None
    bridge: str
    conference: str
    endpoint_id: int
    participant_name: str
    state: str
    display_name: str


@dataclass(frozen=True)
class _Target:
    id: int
    address: str


@dataclass(frozen=True)
class _Stored:
    """The stored status of an endpoint, as a pass compares it with its verdict."""
    status: str
    packet_loss: str
    conference_id: int | None
    checked_at: datetime


@dataclass
class Verdict:
    status: str
    conference_id: int | None = None
    packet_loss: str = "none"
    detail: str = ""
    leg: _Leg | None = None
    info: ParticipantInfo | None = field(default=None, repr=False)


def _read(session: Session, bridges: Collection[str] | None = None, probe_idle: bool = True,
          ) -> tuple[list[_Leg], list[_Target], dict[int, _Stored]]:
    """What one pass needs, and no more: a bridge's loop (*bridges*, no idle probing) reads the legs
    on its bridges and those endpoints' statuses; the loop that probes idle endpoints reads every
    enabled endpoint and status, and of the other bridges' legs only which endpoints are in a call.

    At national scale (500 live conferences, 10,000 endpoints, one loop per bridge) reading everything
    in every loop cost seconds per pass and delayed each dropped call by as much on its way to the
    console."""
    active = [str(s) for s in ACTIVE_STATES]
    query = (select(ConferenceRun.id, ConferenceRun.meeting_id, ConferenceRun.bridge_name,
                    ConferenceRun.conference_name, CallLeg.endpoint_id, CallLeg.participant_name,
                    CallLeg.state, CallLeg.display_name)
             .join(CallLeg, CallLeg.run_id == ConferenceRun.id)
             .where(ConferenceRun.state.in_(active), CallLeg.wanted.is_(True),
                    CallLeg.endpoint_id.is_not(None))  # directory endpoints only
             .order_by(ConferenceRun.id, CallLeg.position, CallLeg.endpoint_id, CallLeg.id))
    if bridges is not None and not probe_idle:
        query = query.where(ConferenceRun.bridge_name.in_(sorted(bridges)))
    legs = [_Leg(r[0], r[1], r[2], r[3], int(r[4]), r[5], str(r[6]), r[7]) for r in session.execute(query)]
    targets: list[_Target] = []
    # Plain tuples, not ORM rows: a pass reads hundreds and writes few (hydrating and detaching every
    # row was most of a bridge's pass).
    stored = select(EndpointStatus.endpoint_id, EndpointStatus.status, EndpointStatus.packet_loss,
                    EndpointStatus.conference_id, EndpointStatus.checked_at)
    if probe_idle:
        targets = [_Target(i, a) for i, a in session.execute(
            select(Endpoint.id, Endpoint.address).where(Endpoint.enabled).order_by(Endpoint.id))]
        rows = list(session.execute(stored))
    else:
        rows = [row for chunk in chunked(sorted({leg.endpoint_id for leg in legs})) for row in session.execute(
            stored.where(EndpointStatus.endpoint_id.in_(chunk)))]
    current = {int(r[0]): _Stored(str(r[1]), str(r[2]), r[3], r[4]) for r in rows}
    return legs, targets, current


def _poll(drivers: Mapping[str, BridgeDriver], bridges: set[str],
          views: Mapping[str, ParticipantView] | None = None) -> Reports:
    """One enumeration per bridge with live conferences (through the bridge's shared view when there is
    one: a delta read); a bridge that fails is left out (the launch engine raises
    ``bridge_unreachable``/``bridge_auth`` for it)."""
    out: Reports = {}
    for bridge in sorted(bridges):
        driver = drivers.get(bridge)
        if driver is None:
            continue
        view = (views or {}).get(bridge)
        try:
            listed = view.read() if view is not None else driver.list_participants()
            out[bridge] = {(p.conference, p.participant_name): p for p in listed}
        except Exception as exc:  # any driver error: no verdict from this bridge this time
            log.warning("monitor: bridge %s participant poll failed: %s", bridge, type(exc).__name__)
    return out


def _verdicts(settings: Settings, now: datetime, legs: list[_Leg], targets: list[_Target],
              current: dict[int, _Stored], reports: Reports, probe: Probe, *,
              bridges: Collection[str] | None = None, probe_idle: bool = True) -> dict[int, Verdict]:
    verdicts: dict[int, Verdict] = {}
    # Endpoints in a call on a bridge another scheduler monitors: neither judged nor probed here.
    elsewhere = {leg.endpoint_id for leg in legs if bridges is not None and leg.bridge not in bridges}
    for leg in legs:
        if bridges is not None and leg.bridge not in bridges:
            continue
        polled = reports.get(leg.bridge)
        info = polled.get((leg.conference, leg.participant_name)) if polled is not None else None
        known = current.get(leg.endpoint_id)
        if polled is None and known is not None and known.conference_id == leg.run_id:
            continue  # bridge not read this time: keep the last verdict rather than guess
        status = call_status(leg.state, info)
        verdicts[leg.endpoint_id] = Verdict(
            status, leg.run_id, info.packet_loss if info else "none",
            (info.reason or "") if info and info.state in ("failed", "disconnected") else "", leg, info)
    due = [t for t in targets if probe_idle and t.id not in verdicts and t.id not in elsewhere and (
        t.id not in current or current[t.id].status in IN_CALL | {"dialling", "failed", "unknown"}
        or now - current[t.id].checked_at >= timedelta(seconds=settings.monitor.probe_seconds))]
    if due:
        answers = probe.reachable(due)
        for t in due:
            previous = current[t.id].status if t.id in current else "unknown"
            verdicts[t.id] = Verdict(idle_status(answers.get(t.id), previous))
    return verdicts


def _settled(v: Verdict, row: _Stored | None, now: datetime, restamp: timedelta) -> bool:
    """Nothing to write, publish or raise for this verdict: the stored status says the same and was
    stamped within *restamp*, and it is no state that may raise an alarm (offline, critical loss, a call
    that ended).  Most of a pass's verdicts are: the write transaction then reads only the rest."""
    if row is None or v.status == "offline" or v.packet_loss == "critical":
        return False
    if v.info is not None and v.info.state in ("disconnected", "failed"):
        return False
    conference = v.conference_id if v.conference_id is not None else row.conference_id
    return ((row.status, row.packet_loss, row.conference_id) == (v.status, v.packet_loss, conference)
            and now - row.checked_at < restamp)


def _has_open(session: Session, key: str) -> bool:
    return session.scalar(select(Alarm.id).where(Alarm.key == key, Alarm.cleared_at.is_(None))) is not None


def _booked_soon(
    session: Session, endpoint_id: int, now: datetime, minutes: int,
) -> tuple[int, str, datetime] | None:
    row = session.execute(
        select(Meeting.id, Meeting.title, Occurrence.start)
        .select_from(EndpointSlot)
        .join(Occurrence, Occurrence.id == EndpointSlot.occurrence_id)
        .join(Meeting, Meeting.id == EndpointSlot.meeting_id)
        .where(EndpointSlot.endpoint_id == endpoint_id, Occurrence.status == "planned",
               EndpointSlot.window_start <= now + timedelta(minutes=minutes), EndpointSlot.window_end > now)
        .order_by(EndpointSlot.window_start).limit(1)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def _title(session: Session, meeting_id: int | None, fallback: str) -> str:
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    return meeting.title if meeting is not None else fallback


def _alarms(session: Session, settings: Settings, now: datetime, endpoint: Endpoint, v: Verdict,
            previous: str, open_keys: set[str]) -> None:
    """*open_keys*: the keys of the open alarms (read once per pass, kept current here): most endpoints
    have none, and a query per endpoint and key held SQLite's write lock for seconds in a storm."""
    name = endpoint.name

    def clear(key: str) -> None:
        if key in open_keys:
            clear_alarm(session, key)
            open_keys.discard(key)

    if v.leg is not None:
        leg = v.leg
        loss_key = f"packet_loss:run={leg.run_id}:endpoint={leg.endpoint_id}"
        if v.packet_loss == "critical":
            if loss_key not in open_keys:
                open_keys.add(loss_key)
                raise_alarm(session, "packet_loss", loss_key, "alarm.packet_loss",
                            {"endpoint": name, "meeting": _title(session, leg.meeting_id, leg.conference)},
                            severity="critical", endpoint_id=leg.endpoint_id, meeting_id=leg.meeting_id,
                            conference_id=leg.run_id, bridge_name=leg.bridge)
        elif v.info is not None:
            clear(loss_key)
        info = v.info
        if (previous in IN_CALL and info is not None and info.state in ("disconnected", "failed")
                and (info.reason or "other") not in NOT_A_DROP):
            drop_key = f"call_dropped:run={leg.run_id}:endpoint={leg.endpoint_id}"
            if drop_key not in open_keys:
                open_keys.add(drop_key)
                raise_alarm(session, "call_dropped", drop_key, "alarm.call_dropped",
                            {"endpoint": name, "meeting": _title(session, leg.meeting_id, leg.conference),
                             "reason": notices.reason(info.reason)},
                            endpoint_id=leg.endpoint_id, meeting_id=leg.meeting_id,
                            conference_id=leg.run_id, bridge_name=leg.bridge, reason=info.reason or "other")
    offline_key = f"endpoint_offline:endpoint={endpoint.id}"
    if v.status == "offline":
        booked = _booked_soon(session, endpoint.id, now, settings.monitor.offline_alarm_minutes)
        if booked is not None and offline_key not in open_keys:
            open_keys.add(offline_key)
            meeting_id, title, start = booked
            local = start.astimezone(settings.zone).strftime("%H:%M %d/%m")
            raise_alarm(session, "endpoint_offline", offline_key, "alarm.endpoint_offline",
                        {"endpoint": name, "meeting": title, "at": local}, severity="critical", endpoint_id=endpoint.id,
                        meeting_id=meeting_id)
    elif v.status != "unknown":
        clear(offline_key)


def _status_rows(session: Session, endpoint_ids: list[int], now: datetime) -> dict[int, EndpointStatus]:
    """The status rows of *endpoint_ids*, created ("unknown" since *now*) where missing.

    Created with INSERT … ON CONFLICT DO NOTHING: two passes (a bridge's loop and the idle probe, or two
    schedulers) may meet an endpoint's first status at once, and a plain INSERT failed the slower pass
    whole (its verdicts, a dropped call's alarm among them, waited for the next one)."""
    rows = {r.endpoint_id: r for r in session.scalars(
        select(EndpointStatus).where(EndpointStatus.endpoint_id.in_(endpoint_ids)))}
    missing = [i for i in endpoint_ids if i not in rows]
    if missing:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(EndpointStatus).values([
            {"endpoint_id": i, "status": "unknown", "since": now, "checked_at": now, "packet_loss": "none",
             "detail": ""} for i in missing]).on_conflict_do_nothing(index_elements=["endpoint_id"]))
        rows.update({r.endpoint_id: r for r in session.scalars(
            select(EndpointStatus).where(EndpointStatus.endpoint_id.in_(missing)))})
    return rows


def _store(session: Session, settings: Settings, now: datetime, verdicts: dict[int, Verdict]) -> int:
    changed = 0
    endpoints = {e.id: e for e in session.scalars(select(Endpoint).where(Endpoint.id.in_(list(verdicts))))}
    # In bulk (one query, not one per endpoint): on SQLite this transaction holds the write lock, and
    # during a storm every other writer of the scheduler (the lease renewals) waits for it.
    statuses = _status_rows(session, list(endpoints), now)
    open_keys = set(session.scalars(select(Alarm.key).where(Alarm.cleared_at.is_(None))))
    restamp = timedelta(seconds=settings.monitor.probe_seconds)
    for endpoint_id, v in verdicts.items():
        endpoint = endpoints.get(endpoint_id)
        if endpoint is None:
            continue
        row = statuses[endpoint_id]
        previous = row.status
        _alarms(session, settings, now, endpoint, v, previous, open_keys)
        # An idle verdict names no conference: the row keeps the last one, which is no change.
        conference = v.conference_id if v.conference_id is not None else row.conference_id
        same = (previous, row.packet_loss, row.conference_id) == (v.status, v.packet_loss, conference)
        if same and row.since != now:
            # An unchanged status is re-stamped at most every probe interval: stamping every endpoint in
            # a call on every pass was one UPDATE per leg per pass (6,000 per round at national scale).
            if now - row.checked_at >= restamp:
                row.checked_at = now
            continue
        row.checked_at = now
        if previous != v.status:
            still_open = select(EndpointStatusHistory).where(
                EndpointStatusHistory.endpoint_id == endpoint_id, EndpointStatusHistory.ended_at.is_(None))
            for open_row in session.scalars(still_open):
                open_row.ended_at = now
            session.add(EndpointStatusHistory(endpoint_id=endpoint_id, status=v.status, started_at=now))
            row.since = now
        row.status, row.packet_loss, row.detail = v.status, v.packet_loss, v.detail
        row.conference_id = v.conference_id if v.conference_id is not None else row.conference_id
        changed += 1
        queue_event(session, "endpoint.status", endpoint_id=endpoint_id, status=v.status, previous=previous,
                    since=row.since.isoformat(), packet_loss=v.packet_loss, conference_id=v.conference_id,
                    name=endpoint.name, site=endpoint.site_name)
    return changed


def monitor_tick(session_factory: sessionmaker[Session], settings: Settings,
                 drivers: Mapping[str, BridgeDriver], now: datetime | None = None, *,
                 probe: Probe | None = None, poll_bridges: bool = True,
                 views: Mapping[str, ParticipantView] | None = None,
                 bridges: Collection[str] | None = None, probe_idle: bool = True) -> int:
    """One monitoring pass; returns how many endpoint statuses changed.

    With ``poll_bridges=False`` (the launch engine is busy dialling) call statuses come from the call
    legs the engine keeps, and the bridges' request slots are left to the dials.  With several
    schedulers each judges the calls on the *bridges* whose leases it holds, and the holder of the
    global lease probes the endpoints in no call (``probe_idle``).
    """
    now = now or clock.now()
    with session_factory() as session:
        legs, targets, current = _read(session, bridges, probe_idle)
    polled = {leg.bridge for leg in legs if bridges is None or leg.bridge in bridges}
    reports = _poll(drivers, polled, views) if poll_bridges else {}
    probe = probe or make_probe(settings.monitor)
    verdicts = _verdicts(settings, now, legs, targets, current, reports, probe, bridges=bridges,
                         probe_idle=probe_idle)
    restamp = timedelta(seconds=settings.monitor.probe_seconds)
    verdicts = {k: v for k, v in verdicts.items() if not _settled(v, current.get(k), now, restamp)}
    if not verdicts:
        return 0
    with unit_of_work(session_factory) as session:
        return _store(session, settings, now, verdicts)


def check_scheduler_heartbeat(session_factory: sessionmaker[Session], settings: Settings,
                              now: datetime | None = None, lease_name: str = "launch") -> bool:
    """Raise ``scheduler_heartbeat`` when the scheduler's lease has not been renewed for
    ``monitor.heartbeat_stale_seconds`` (clear it when renewed).  Run *outside* the scheduler (the live
    server does), since a dead scheduler cannot report itself.  Returns True when healthy."""
    now = now or clock.now()
    key = "scheduler_heartbeat"
    with unit_of_work(session_factory) as session:
        lease = session.get(SchedulerLease, lease_name)
        if lease is None:
            return True  # no scheduler has ever run against this database: nothing went missing
        stale = now - lease.renewed_at > timedelta(seconds=settings.monitor.heartbeat_stale_seconds)
        if stale and not _has_open(session, key):
            raise_alarm(session, "scheduler_heartbeat", key, "alarm.scheduler_heartbeat",
                        {"at": f"{lease.renewed_at.astimezone(settings.zone):%H:%M:%S}", "holder": lease.holder},
                        severity="critical")
        elif not stale:
            clear_alarm(session, key)
        return not stale


def uptime(session: Session, endpoint_id: int, start: datetime, end: datetime) -> dict[str, float]:
    """Seconds spent in each status over ``[start, end)`` (for uptime reports)."""
    out: dict[str, float] = {}
    rows = session.scalars(select(EndpointStatusHistory).where(
        EndpointStatusHistory.endpoint_id == endpoint_id, EndpointStatusHistory.started_at < end,
        (EndpointStatusHistory.ended_at.is_(None)) | (EndpointStatusHistory.ended_at > start)))
    for row in rows:
        a = max(row.started_at, start)
        b = min(row.ended_at or end, end)
        if b > a:
            out[row.status] = out.get(row.status, 0.0) + (b - a).total_seconds()
    return out
