"""Languages: Vietnamese first, English second.

Decision: the source text of the interface is written in Vietnamese (the language of every user) and is
the ``msgid``; ``web/translations/en/LC_MESSAGES/messages.po`` gives the English.  ``vi/messages.po``
only carries the header (its ids are already the text).  ``.mo`` files are build outputs and are not
committed: :func:`compile_catalogues` (re)writes each one from its ``.po`` when missing or older, at app
start, so a fresh clone works without a manual ``pybabel compile``.  It takes a few milliseconds.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import session

from confbridge.api.common import get_settings
from confbridge.auth.web import optional_user
from confbridge.i18n import DEFAULT_LOCALE, LOCALE_NAMES, LOCALES, compile_catalogues

log = logging.getLogger(__name__)
__all__ = [
    "DEFAULT_LOCALE", "LOCALES", "LOCALE_NAMES", "compile_catalogues", "select_locale", "select_timezone", "user_zone",
]


def select_locale() -> str:
    """The signed-in user's language, else the one chosen on the sign-in page, else Vietnamese."""
    user = optional_user()
    if user is not None and user.locale in LOCALES:
        return user.locale
    chosen = session.get("locale")
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def select_timezone() -> str:
    """The user's own zone when set (and valid), else the installation's (Asia/Ho_Chi_Minh)."""
    user = optional_user()
    if user is not None and user.timezone:
        try:
            ZoneInfo(user.timezone)
            return user.timezone
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return get_settings().timezone


def user_zone() -> ZoneInfo:
    return ZoneInfo(select_timezone())
