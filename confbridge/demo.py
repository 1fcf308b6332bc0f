"""Demo data for the embedded default: the 20 Kiên Giang endpoints, three users with generated passwords,
a realistic week of meetings, and a briefing that starts a few minutes after start-up so that a newcomer
sees a launch happen live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.auth.models import User
from confbridge.auth.passwords import generate_password
from confbridge.auth.service import create_user
from confbridge.booking import service
from confbridge.booking.holidays import holiday_exdates, is_public_holiday
from confbridge.booking.models import EndpointSlot, Meeting, Occurrence
from confbridge.booking.validation import MeetingInput
from confbridge.directory.models import Endpoint
from confbridge.directory.service import import_toml
from confbridge.errors import Conflict, InvalidInput
from confbridge.settings import Settings

DEMO_USERS = (
    ("admin", "admin", "Quản trị hệ thống"),
    ("thuky", "secretary", "Nguyễn Thị Thu — Văn phòng UBND tỉnh"),
    ("kythuat", "technician", "Trần Văn Kỹ — Sở TT&TT"),
)
LIVE_DEMO_TITLE = "Kiểm tra kỹ thuật trước giao ban"


@dataclass
class SeedResult:
    endpoints_created: int
    passwords: dict[str, str]
    meetings_created: int


def seed(session: Session, settings: Settings) -> SeedResult:
    """Idempotent: creates what is missing; passwords are generated only for users created now."""
    created = 0
    if settings.endpoints_file and session.scalar(select(func.count()).select_from(Endpoint)) == 0:
        report = import_toml(session, settings.path(settings.endpoints_file), None)
        created = len(report.created)
    passwords: dict[str, str] = {}
    for username, role, display in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            password = generate_password()
            create_user(session, username, password, role, email=f"{username}@ubnd.kiengiang.example",
                        display_name=display)
            passwords[username] = password
    meetings = 0
    if session.scalar(select(func.count()).select_from(Meeting)) == 0:
        meetings = _seed_week(session, settings)
    return SeedResult(created, passwords, meetings)


def _endpoints(session: Session) -> list[Endpoint]:
    return list(session.scalars(select(Endpoint).where(Endpoint.enabled.is_(True)).order_by(Endpoint.id)))


def _local(settings: Settings, day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=settings.zone)


def _working_days(first: date, n: int) -> list[date]:
    """The next *n* working days from *first* (itself included): no weekend, no public holiday."""
    days: list[date] = []
    day = first
    while len(days) < n:
        if day.weekday() < 5 and not is_public_holiday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _next_weekday(now: datetime, weekday: int, settings: Settings, hh: int, mm: int, hours: float) -> date:
    """The first *weekday* (0 = Monday) whose meeting at hh:mm, *hours* long, has not ended yet."""
    day = now.date() - timedelta(days=now.weekday() - weekday)
    while _local(settings, day, hh, mm) + timedelta(hours=hours) <= now:
        day += timedelta(days=7)
    return day


def _weekly(settings: Settings, plan: MeetingInput) -> MeetingInput:
    """A weekly series skips the public holidays (Tết, 30/4, 2/9 …) it would land on."""
    plan.exdates = holiday_exdates(plan.start, settings.zone, plan.rrule)
    return plan


def _ids(group: list[Endpoint]) -> list[int]:
    return [e.id for e in group]


def _book(session: Session, settings: Settings, organiser: User, plans: list[MeetingInput]) -> Meeting | None:
    """The first plan the booking service accepts (every conflict check applies), or None."""
    for plan in plans:
        try:
            with session.begin_nested():
                return service.create_meeting(session, settings, organiser, plan)
        except (Conflict, InvalidInput):
            continue
    return None


def _seed_week(session: Session, settings: Settings) -> int:
    """A believable week from the day of start: the Monday briefing (weekly, skipping holidays), a meeting
    in progress now, others on the following working days, and a weekly series with one occurrence
    cancelled.  Everything goes through the booking service, so nothing is ever double-booked: a plan that
    collides with what is already booked falls back to other endpoints, or is left out."""
    organiser = session.scalar(select(User).where(User.username == "thuky"))
    if organiser is None:
        return 0
    eps = _endpoints(session)
    if len(eps) < 10:
        return 0
    now = clock.now().astimezone(settings.zone)
    province, dept = eps[0], [e for e in eps if e.kind == "department"] or eps[1:4]
    districts = [e for e in eps if e.kind == "district"] or eps
    days = _working_days(now.date(), 5)
    created = 0

    monday = _next_weekday(now, 0, settings, 7, 30, 2)
    briefing = _weekly(settings, MeetingInput(
        title="Giao ban tuần UBND tỉnh", description="Giao ban công tác chỉ đạo, điều hành hằng tuần.",
        start=_local(settings, monday, 7, 30), end=_local(settings, monday, 9, 30),
        endpoint_ids=_ids(eps), host_endpoint_id=province.id, rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=12",
        setup_minutes=30, attendees=[("vanphong@ubnd.kiengiang.example", "Văn phòng UBND tỉnh")],
    ))
    created += _book(session, settings, organiser, [briefing]) is not None

    # In progress now: started half an hour ago (on the quarter hour), an hour and a half long.
    began = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) - timedelta(minutes=30)
    live = [MeetingInput(
        title="Họp xử lý vướng mắc giải phóng mặt bằng",
        description="Tháo gỡ khó khăn về bồi thường, hỗ trợ, tái định cư các dự án trọng điểm.",
        start=began, end=began + timedelta(minutes=90), endpoint_ids=[province.id, *_ids(group)],
        host_endpoint_id=province.id, setup_minutes=10,
    ) for group in (districts[:4], districts[4:8], districts[8:12])]
    created += _book(session, settings, organiser, live) is not None

    singles = [
        (days[0], (14, 0), 1.5, "Làm việc với UBND huyện Phú Quốc về phát triển du lịch",
         [province, *districts[:1]], None),
        (days[1], (8, 0), 2.5, "Hội nghị triển khai kế hoạch vốn đầu tư công năm 2027",
         [province, *dept[:2], *districts[:8]], None),
        (days[2], (8, 0), 3, "Sơ kết chuyển đổi số quý IV", [province, *dept[:1], *districts[8:14]], "2017"),
        (days[3], (14, 0), 2, "Họp trực tuyến phòng chống thiên tai", [province, *dept, *districts[:8]], None),
        (days[4], (9, 0), 1.5, "Tập huấn phần mềm quản lý văn bản", [*dept[:1], *districts[8:14]], None),
    ]
    for day, (hh, mm), hours, title, group, pin in singles:
        start = _local(settings, day, hh, mm)
        if start <= now:
            continue  # already over or under way: the meeting in progress is the one above
        created += _book(session, settings, organiser, [MeetingInput(
            title=title, start=start, end=start + timedelta(hours=hours), endpoint_ids=_ids(group),
            host_endpoint_id=group[0].id, setup_minutes=15, pin=pin,
        )]) is not None

    # A weekly series of the departments; its first occurrence is called off (a visible cancellation).
    # At the end of the afternoon, after every single meeting above (none of them can take its slot).
    thursday = _next_weekday(now, 3, settings, 16, 15, 1)
    series = _book(session, settings, organiser, [_weekly(settings, MeetingInput(
        title="Giao ban khối Sở, ngành", description="Tình hình thực hiện nhiệm vụ của các Sở, ngành.",
        start=_local(settings, thursday, 16, 15), end=_local(settings, thursday, 17, 15),
        endpoint_ids=_ids([province, *dept]), host_endpoint_id=province.id, rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=8",
        setup_minutes=15,
    ))])
    if series is not None:
        created += 1
        upcoming = [o for o in series.occurrences if o.status == "planned" and o.start > now]
        first = min(upcoming, key=lambda o: o.start, default=None)
        if first is not None:
            service.cancel_occurrence(session, settings, organiser, series, first.original_start)
    return created


def ensure_upcoming(session: Session, settings: Settings, minutes_ahead: int = 4) -> Meeting | None:
    """A short briefing starting a few minutes from now, unless one is already coming up soon."""
    organiser = session.scalar(select(User).where(User.username == "thuky"))
    if organiser is None:
        return None
    now = clock.now()
    soon = session.scalar(select(Occurrence.id).join(Meeting).where(
        Meeting.title == LIVE_DEMO_TITLE, Occurrence.status == "planned",
        Occurrence.end > now, Occurrence.start < now + timedelta(minutes=30)))
    if soon is not None:
        return None
    eps = _endpoints(session)
    if not eps:
        return None
    start = (now + timedelta(minutes=minutes_ahead)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=20)
    busy = set(session.scalars(select(EndpointSlot.endpoint_id).where(
        EndpointSlot.window_start < end, EndpointSlot.window_end > start - timedelta(minutes=2))))
    free = [e for e in eps if e.id not in busy]
    # Every endpoint when they are all free; else the ones the meeting in progress does not hold.
    plans = [MeetingInput(
        title=LIVE_DEMO_TITLE, description="Cuộc họp minh hoạ: kết nối tự động các điểm cầu.",
        start=start, end=end, endpoint_ids=[e.id for e in group], host_endpoint_id=group[0].id, setup_minutes=2,
    ) for group in (eps, free) if group]
    return _book(session, settings, organiser, plans)
