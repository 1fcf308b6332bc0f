"""Who may do and see what: the role groups and the visibility rules, written once.

Every place that decides access (booking, the launch engine, the alarms view, the invitations view, the
live snapshot and its event filter, the pages) asks these functions.  The rule in one sentence:
administrators and technicians see every meeting, conference and alarm; a secretary sees and edits only
the meetings she organises (and their conferences and alarms); only administrators and secretaries book.

Functions take anything with ``role``/``id`` (a ``User``, the live server's ``Viewer``) and anything with
``organiser_id`` (a ``Meeting``), so ``auth`` needs no other feature package (no package cycle).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from confbridge.auth.models import Role, User

BOOKERS: tuple[Role, ...] = (Role.SECRETARY, Role.ADMIN)
"""May book, change and cancel meetings (a secretary only her own)."""
OPERATORS: tuple[Role, ...] = (Role.ADMIN, Role.TECHNICIAN)
"""Run conferences, acknowledge alarms, and see every meeting, conference and alarm."""
ANY_ROLE: tuple[Role, ...] = (Role.SECRETARY, Role.ADMIN, Role.TECHNICIAN, Role.APPROVER)
"""Every signed-in role."""
MAINTAINERS: tuple[Role, ...] = (Role.ADMIN, Role.TECHNICIAN)
"""Create and delete blackout windows (maintenance) of endpoints and bridges."""
APPROVERS: tuple[Role, ...] = (Role.ADMIN, Role.APPROVER)
"""Approve or reject bookings of endpoints that require approval; they read every meeting (not its PIN)."""


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


class Person(HasRole, Protocol):
    @property
    def id(self) -> int: ...


class Organised(Protocol):
    @property
    def organiser_id(self) -> int | None: ...


def _organises(user: Person, meeting: Organised) -> bool:
    """The organiser, a co-organiser, or the person who booked it on the organiser's behalf."""
    if meeting.organiser_id == user.id:
        return True
    if user.id in getattr(meeting, "co_organiser_ids", ()):
        return True
    return getattr(meeting, "booked_by_id", None) == user.id


def sees_everything(user: HasRole) -> bool:
    """Administrators and technicians see every meeting, conference and alarm."""
    return user.role in OPERATORS


def may_book(user: HasRole) -> bool:
    return user.role in BOOKERS


def may_administer(user: HasRole) -> bool:
    """Manage endpoints, users, bridges and read the audit log."""
    return user.role == Role.ADMIN


def may_read_calendar(user: HasRole) -> bool:
    """The calendar, reports and calendar subscriptions: every signed-in role."""
    return user.role in ANY_ROLE


def starts_at_console(user: HasRole) -> bool:
    """A technician's home page is the console (the others start at the calendar)."""
    return user.role == Role.TECHNICIAN


def may_operate(user: HasRole) -> bool:
    """Start, end, extend conferences; mute or redial participants; acknowledge alarms."""
    return user.role in OPERATORS


def may_manage_blackouts(user: HasRole) -> bool:
    """Administrators and technicians take endpoints and bridges out of service (blackouts)."""
    return user.role in MAINTAINERS


def may_see_meeting(user: Person, meeting: Organised | None) -> bool:
    """Operators see every meeting; approvers every meeting (to decide on it); a secretary the ones she
    organises, co-organises or booked for someone else."""
    if sees_everything(user) or user.role == Role.APPROVER:
        return True
    return user.role == Role.SECRETARY and meeting is not None and _organises(user, meeting)


def may_edit_meeting(user: Person, meeting: Organised) -> bool:
    """An administrator, or a secretary who organises it, co-organises it or booked it on behalf of its
    organiser (technicians and approvers never edit bookings)."""
    return user.role == Role.ADMIN or (user.role == Role.SECRETARY and _organises(user, meeting))


def may_approve(user: HasRole) -> bool:
    """Approve or reject a pending booking: administrators and approvers."""
    return user.role in APPROVERS


def starts_at_approvals(user: HasRole) -> bool:
    """An approver's home page is the approvals page."""
    return user.role == Role.APPROVER


def may_organise(user: HasRole) -> bool:
    """Who can be named a meeting's organiser or co-organiser: people who may book (secretaries, admins).
    Anyone who may book may book on someone else's behalf."""
    return user.role in BOOKERS


def may_see_conference(user: Person, meeting: Organised | None) -> bool:
    """A conference run is visible to whoever may see its meeting (runs without one: operators only)."""
    return may_see_meeting(user, meeting)


def may_see_alarm(user: Person, meeting: Organised | None) -> bool:
    """An alarm about a meeting is visible to whoever may see the meeting; other alarms to operators."""
    return may_see_meeting(user, meeting)


def followed_organiser(user: Person) -> int | None:
    """For list queries: ``None`` when *user* sees everything, else the organiser id to filter meetings
    on (a secretary follows her own meetings; any other role follows none, filtered by id -1)."""
    if sees_everything(user):
        return None
    return user.id if user.role == Role.SECRETARY else -1


def may_see_confidential(user: Person | None, meeting: Organised) -> bool:
    """May *user* see *meeting*'s conference PIN (the MCU PIN: it opens the conference) and its
    attendees' e-mail addresses?  The organiser (and co-organisers, where they exist), administrators
    and technicians; everyone else who may read the meeting gets it without them."""
    if user is None or getattr(user, "active", True) is False:
        return False
    if sees_everything(user):
        return True
    return _organises(user, meeting)


def still_entitled(session: Session, user_id: int, role: str) -> bool:
    """Is a connection opened by *user_id* as *role* still allowed (account active, same role)?"""
    user = session.get(User, user_id)
    return user is not None and user.active and user.role == role


def entitled_user_ids(session: Session, users: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (user id, role) pairs among *users* that are still active with that role (one query)."""
    if not users:
        return set()
    rows = session.execute(
        select(User.id, User.role).where(User.id.in_({u for u, _ in users}), User.active.is_(True))
    )
    current = {(uid, role) for uid, role in rows}
    return users & current


# ---- endpoint groups and meeting templates -----------------------------------------------------------
class Owned(Protocol):
    @property
    def owner_id(self) -> int: ...


GROUP_MANAGERS: tuple[Role, ...] = (Role.ADMIN,)
"""Manage endpoint groups (directory records, like endpoints); every signed-in role reads them."""


def may_manage_endpoint_groups(user: HasRole) -> bool:
    return user.role in GROUP_MANAGERS


def may_use_template(user: Person, template: Owned) -> bool:
    """A secretary sees, books from, changes and deletes her own templates; an administrator every one."""
    return user.role == Role.ADMIN or (user.role == Role.SECRETARY and template.owner_id == user.id)


def followed_template_owner(user: Person) -> int | None:
    """For template lists: ``None`` when *user* sees every template, else the owner id to filter on."""
    return None if user.role == Role.ADMIN else user.id
