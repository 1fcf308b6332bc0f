"""Accounts: create users, check passwords, issue and resolve tokens."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from confbridge import clock
from confbridge.audit.models import plain, record, record_failure
from confbridge.auth.models import ApiToken, Role, User
from confbridge.auth.passwords import (
    DUMMY_HASH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from confbridge.auth.sessions import end_all_sessions
from confbridge.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthorized
from confbridge.i18n import N_
from confbridge.text import valid_email

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.of([FieldError.of("password", "too_short", min_length=MIN_PASSWORD_LENGTH)])


def create_user(
    session: Session, username: str, password: str, role: str, *, email: str | None = None,
    display_name: str = "", actor_id: int | None = None, locale: str = "vi",
) -> User:
    errors: list[FieldError] = []
    if not USERNAME_RE.match(username):
        errors.append(FieldError.of("username", "invalid_username"))
    if role not in {r.value for r in Role}:
        errors.append(FieldError.of("role", "one_of", choices=", ".join(r.value for r in Role)))
    if email is not None and not valid_email(email):
        errors.append(FieldError.of("email", "invalid_email"))
    if errors:
        raise InvalidInput.of(errors)
    validate_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict.said(N_("Tài khoản “%(username)s” đã tồn tại."), username=username)
    user = User(
        username=username, email=email, display_name=display_name or username, role=role,
        password_hash=hash_password(password), locale=locale,
    )
    session.add(user)
    session.flush()
    record(session, actor_id, "user.create", "user", user.id, username=username, role=role)
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user with these credentials, or Unauthorized (same answer and timing for both failures)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        verify_password(DUMMY_HASH, password)
        record_failure(session, "auth.signin_failed", "user", user.id if user else "-",
                     actor=username[:64], reason="locked" if user is not None else "unknown_user")
        raise Unauthorized.said(N_("Sai tên đăng nhập hoặc mật khẩu."))
    if not verify_password(user.password_hash, password):
        record_failure(session, "auth.signin_failed", "user", user.id, actor=username[:64],
                     reason="wrong_password")
        raise Unauthorized.said(N_("Sai tên đăng nhập hoặc mật khẩu."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(session: Session, user: User, old: str, new: str) -> None:
    if not verify_password(user.password_hash, old):
        raise InvalidInput.of([FieldError.of("old_password", "wrong")])
    validate_password(new)
    user.password_hash = hash_password(new)
    user.credentials_version += 1
    for token in user.tokens:
        token.revoked = True
    end_all_sessions(session, user.id)
    record(session, user.id, "user.password", "user", user.id)


def set_password(session: Session, user: User, new: str, actor_id: int | None) -> None:
    validate_password(new)
    user.password_hash = hash_password(new)
    user.credentials_version += 1
    for token in user.tokens:
        token.revoked = True
    end_all_sessions(session, user.id)
    record(session, actor_id, "user.password_reset", "user", user.id)


def issue_token(
    session: Session, user: User, *, hours: float, purpose: str = "api", scope: str | None = None,
) -> tuple[str, ApiToken]:
    token, digest = new_token()
    expires = clock.now() + timedelta(hours=hours) if hours else None
    row = ApiToken(user_id=user.id, token_hash=digest, purpose=purpose, expires_at=expires, scope=scope,
                   created_at=clock.now())
    session.add(row)
    session.flush()
    return token, row


def resolve_token(session: Session, token: str, purpose: str = "api") -> tuple[User, ApiToken]:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    now = clock.now()
    if (
        row is None or row.revoked or row.purpose != purpose
        or (row.expires_at is not None and row.expires_at <= now)
        or not row.user.active
    ):
        raise Unauthorized.said(N_("Mã truy cập không hợp lệ hoặc đã hết hạn."))
    return row.user, row


def consume_token(session: Session, token: str, purpose: str) -> User:
    """Resolve a single-use token and mark it used, atomically: one conditional
    ``UPDATE … WHERE used_at IS NULL … RETURNING``, so two racing redeems (PostgreSQL under READ
    COMMITTED included) cannot both succeed."""
    now = clock.now()
    user_id = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_digest(token), ApiToken.purpose == purpose,
               ApiToken.used_at.is_(None), ApiToken.revoked.is_(False),
               or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
        .values(used_at=now)
        .returning(ApiToken.user_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise Unauthorized.said(N_("Mã không hợp lệ, đã hết hạn hoặc đã được dùng."))
    return user


def revoke_token(session: Session, token: str) -> None:
    """Revoke a bearer token (``DELETE /api/v1/auth/token``: sign this client out)."""
    _user, row = resolve_token(session, token, "api")
    row.revoked = True


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound.said(N_("Không có tài khoản “%(username)s”."), username=username)
    return user


def expires_at(row: ApiToken) -> datetime | None:
    return row.expires_at


def update_user(session: Session, user: User, changes: dict[str, object], actor_id: int | None) -> User:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if changes.get("timezone"):
        try:
            ZoneInfo(str(changes["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput.of([
                FieldError.of("timezone", "unknown_timezone", value=str(changes["timezone"])[:60])]) from None
    if changes.get("email") is not None and not valid_email(str(changes["email"])):
        raise InvalidInput.of([FieldError.of("email", "invalid_email")])
    if actor_id == user.id and (changes.get("role", user.role) != Role.ADMIN or changes.get("active") is False):
        raise Conflict.said(N_("Bạn không thể tự bỏ quyền quản trị hoặc tự khóa tài khoản của mình."))
    changed = {k: v for k, v in changes.items() if getattr(user, k, None) != v}
    before = {k: getattr(user, k, None) for k in changed}
    for key in ("role", "email", "display_name", "active", "locale", "timezone"):
        if key in changed:
            setattr(user, key, changed[key])
    if "role" in changed or changed.get("active") is False:
        # A changed role or a locked account must not keep old sessions and tokens alive.
        user.credentials_version += 1
        for token in user.tokens:
            token.revoked = True
        end_all_sessions(session, user.id)
    if changed:
        action = "user.lock" if changed.get("active") is False else "user.update"
        record(session, actor_id, action, "user", user.id, changes=sorted(changed),
               before={k: plain(before[k]) for k in changed}, after={k: plain(v) for k, v in changed.items()})
    return user
