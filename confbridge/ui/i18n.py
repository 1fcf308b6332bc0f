"""Languages: Vietnamese first, English second.

Decision: the source text of the interface is written in Vietnamese (the language of every user) and is
the ``msgid``; ``web/translations/en/LC_MESSAGES/messages.po`` gives the English.  ``vi/messages.po``
only carries the header (its ids are already the text).  ``.mo`` files are build outputs and are not
committed: :func:`compile_catalogues` (re)writes each one from its ``.po`` when missing or older, at app
start, so a fresh clone works without a manual ``pybabel compile``.  It takes a few milliseconds.
"""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import session

from confbridge.api.common import get_settings, optional_user

log = logging.getLogger(__name__)
LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def compile_catalogues(translations_dir: Path) -> list[Path]:
    """Write ``messages.mo`` next to every ``messages.po`` that is newer; returns the files written."""
    written: list[Path] = []
    for po_path in sorted(translations_dir.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        try:
            with mo_path.open("wb") as out:
                write_mo(out, catalog)
        except OSError as exc:  # a read-only install: the Vietnamese source text still shows
            log.warning("cannot write %s: %s", mo_path, exc)
            continue
        written.append(mo_path)
    return written


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
