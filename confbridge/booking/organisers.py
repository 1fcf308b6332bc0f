"""Booking on behalf and co-organisers: who a meeting belongs to, resolved from usernames.

A secretary books for a leader or a colleague: ``organizer`` names the organiser (the booker is kept as
``booked_by``); ``co_organizers`` name the colleagues who manage the meeting with them.  Both must be
active accounts that may book (``auth.access.may_organise``: secretaries and administrators), so that
the people named can actually open, change and cancel what they are responsible for.  The rights that
follow (see, edit, move, cancel; the PIN) are written once, in ``auth.access``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from confbridge.auth import access
from confbridge.auth.models import User
from confbridge.errors import FieldError, InvalidInput

MAX_CO_ORGANISERS = 20


@dataclass
class Organisers:
    organiser: User
    co_organisers: list[User]


def _by_username(session: Session, names: list[str]) -> dict[str, User]:
    if not names:
        return {}
    rows = session.scalars(select(User).where(func.lower(User.username).in_([n.lower() for n in names])))
    return {u.username.lower(): u for u in rows}


def _check_person(user: User | None, name: str, field: str, errors: list[FieldError]) -> User | None:
    if user is None:
        errors.append(FieldError.of(field, "unknown_user", username=name))
        return None
    if not user.active:
        errors.append(FieldError.of(field, "inactive_user", username=user.username))
        return None
    if not access.may_organise(user):
        errors.append(FieldError.of(field, "cannot_organise", username=user.username))
        return None
    return user


def resolve(session: Session, actor: User, organizer: str | None, co_organizers: list[str] | None,
            *, current: User | None = None) -> Organisers:
    """The organiser (*organizer*'s account, else *current*, else the booker) and the co-organisers.

    Unknown, inactive or non-booking accounts are refused field by field (422); the organiser named
    among the co-organisers, and repeats, are dropped."""
    errors: list[FieldError] = []
    wanted = [n.strip() for n in (co_organizers or []) if n and n.strip()]
    names = ([organizer.strip()] if organizer and organizer.strip() else []) + wanted
    found = _by_username(session, names)
    organiser: User | None = current or actor
    if organizer is not None and organizer.strip():
        organiser = _check_person(found.get(organizer.strip().lower()), organizer.strip(), "organizer", errors)
    elif organizer is not None:
        errors.append(FieldError.of("organizer", "required"))
    if len(wanted) > MAX_CO_ORGANISERS:
        errors.append(FieldError.of("co_organizers", "at_most", high=MAX_CO_ORGANISERS))
    co: list[User] = []
    for name in wanted:
        user = _check_person(found.get(name.lower()), name, "co_organizers", errors)
        if user is not None and user not in co and (organiser is None or user.id != organiser.id):
            co.append(user)
    if errors or organiser is None:
        raise InvalidInput.of(errors)
    return Organisers(organiser, co)


def candidates(session: Session) -> list[User]:
    """Everyone who may be named organiser or co-organiser (the booking form's pickers)."""
    return list(session.scalars(
        select(User).where(User.active.is_(True), User.role.in_([str(r) for r in access.BOOKERS]))
        .order_by(User.display_name, User.username)
    ))
