"""Demo data for the embedded default: the 20 Kiên Giang endpoints, three users with generated passwords,
a realistic week of meetings, and a briefing that starts a few minutes after start-up so that a newcomer
sees a launch happen live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.auth.models import User
from confbridge.auth.passwords import generate_password
from confbridge.auth.service import create_user
from confbridge.booking import service
from confbridge.booking.models import Meeting, Occurrence
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


def _local(settings: Settings, day: datetime, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day.date(), time(hh, mm), tzinfo=settings.zone)


def _seed_week(session: Session, settings: Settings) -> int:
    organiser = session.scalar(select(User).where(User.username == "thuky"))
    if organiser is None:
        return 0
    eps = _endpoints(session)
    if len(eps) < 10:
        return 0
    now = clock.now().astimezone(settings.zone)
    monday = now + timedelta(days=(7 - now.weekday()) % 7 or 7)
    districts = [e for e in eps if e.kind == "district"] or eps
    plans = [
        MeetingInput(
            title="Giao ban tuần UBND tỉnh", description="Giao ban công tác chỉ đạo, điều hành hằng tuần.",
            start=_local(settings, monday, 7, 30), end=_local(settings, monday, 9, 30),
            endpoint_ids=[e.id for e in eps], host_endpoint_id=eps[0].id,
            rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=12", setup_minutes=30,
            attendees=[("vanphong@ubnd.kiengiang.example", "Văn phòng UBND tỉnh")],
        ),
        MeetingInput(
            title="Họp trực tuyến phòng chống thiên tai",
            start=_local(settings, monday + timedelta(days=2), 14),
            end=_local(settings, monday + timedelta(days=2), 16),
            endpoint_ids=[eps[0].id, eps[3].id] + [e.id for e in districts[:8]], host_endpoint_id=eps[0].id,
            setup_minutes=20,
        ),
        MeetingInput(
            title="Sơ kết chuyển đổi số quý IV",
            start=_local(settings, monday + timedelta(days=3), 8), end=_local(settings, monday + timedelta(days=3), 11),
            endpoint_ids=[eps[0].id, eps[2].id] + [e.id for e in districts[8:14]], host_endpoint_id=eps[2].id,
            setup_minutes=15, pin="2017",
        ),
    ]
    count = 0
    for plan in plans:
        try:
            with session.begin_nested():
                service.create_meeting(session, settings, organiser, plan)
                count += 1
        except (Conflict, InvalidInput):
            continue
    return count


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
    try:
        with session.begin_nested():
            return service.create_meeting(session, settings, organiser, MeetingInput(
                title=LIVE_DEMO_TITLE, description="Cuộc họp minh hoạ: kết nối tự động các điểm cầu.",
                start=start, end=start + timedelta(minutes=20), endpoint_ids=[e.id for e in eps],
                host_endpoint_id=eps[0].id, setup_minutes=2,
            ))
    except (Conflict, InvalidInput):
        return None
