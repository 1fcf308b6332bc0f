"""Words in the reader's language, inside and outside a request.

The one seam every process uses to turn a message id into text: pages (through Flask-Babel, which reads
the same catalogues), the REST API (``Accept-Language``), e-mail, alarms and the timeline rendered at the
edge, the console and the CLI.  It sits at the bottom of the import graph: it imports nothing of
confbridge but the resource locator, so any package may use it.

Convention ("codes in the middle, words at the edge"): services store and return codes with parameters;
the msgid for a code is written once, marked with :func:`N_` so ``pybabel extract`` finds it, and
rendered with :func:`translate` where a person reads it.  The source language of every msgid is
Vietnamese (full diacritics); ``web/translations/en`` gives the English.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from confbridge.resources import resource_dir

log = logging.getLogger(__name__)

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LOCALE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def translations_dir() -> Path:
    return resource_dir("web") / "translations"


def N_(msgid: str) -> str:
    """Mark *msgid* for extraction without translating it (translated later, in the reader's language)."""
    return msgid


def compile_catalogues(directory: Path | None = None) -> list[Path]:
    """Write ``messages.mo`` next to every ``messages.po`` that is newer; returns the files written.

    ``.mo`` files are build outputs, not committed: a fresh clone compiles them on first use.
    """
    written: list[Path] = []
    for po_path in sorted((directory or translations_dir()).glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        # Written beside it, then renamed over it: processes starting together (gunicorn workers) never
        # read a half-written catalogue.
        partial = mo_path.with_name(f".{os.getpid()}.{mo_path.name}")
        try:
            with partial.open("wb") as out:
                write_mo(out, catalog)
            os.replace(partial, mo_path)
        except OSError as exc:  # a read-only install: the Vietnamese source text still shows
            log.warning("cannot write %s: %s", mo_path, exc)
            partial.unlink(missing_ok=True)
            continue
        written.append(mo_path)
    return written


def normalise_locale(value: str | None) -> str:
    """``"en-GB"`` → ``"en"``; anything we do not speak → Vietnamese."""
    code = (value or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LOCALES else DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> str:
    """The best of our locales for an ``Accept-Language`` header (q-values honoured); Vietnamese when the
    header is missing, malformed or names nothing we speak."""
    best, best_q = DEFAULT_LOCALE, -1.0
    for position, part in enumerate((accept_language or "")[:512].split(",")):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-", 1)[0]
        if code not in LOCALES:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Ties keep the header's order: an earlier tag wins over a later one with the same q.
        if q > best_q and q > 0:
            best, best_q = code, q - position * 1e-9
    return best


@lru_cache(maxsize=len(LOCALES))
def _translations(locale: str) -> NullTranslations:
    compile_catalogues()
    if locale == DEFAULT_LOCALE:
        return NullTranslations()  # the msgids are the Vietnamese text
    return Translations.load(str(translations_dir()), [locale], domain="messages")


def translate(locale: str | None, msgid: str, **params: Any) -> str:
    """*msgid* in *locale*, with ``%(name)s`` parameters filled in (missing parameters never raise)."""
    text = _translations(normalise_locale(locale)).gettext(msgid)
    if not params:
        return text
    try:
        return text % params
    except (KeyError, ValueError, TypeError):
        log.warning("translation of %r does not fit its parameters %s", msgid, sorted(params))
        return msgid % params if _fits(msgid, params) else text


def bilingual(msgid: str, **params: Any) -> str:
    """``"Vietnamese / English"``: for readers whose language we cannot know (invitations to people
    outside the system, calendar files), Vietnamese first."""
    return f"{translate(DEFAULT_LOCALE, msgid, **params)} / {translate('en', msgid, **params)}"


CLI_LANGUAGE_VARIABLES = ("CONFBRIDGE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


def cli_locale(environ: Mapping[str, str] | None = None) -> str:
    """The language of the command line: ``CONFBRIDGE_LANG``, else the POSIX locale variables
    (``LANG=en_US.UTF-8`` → English), else Vietnamese.  ``C``/``POSIX`` name no language."""
    env = os.environ if environ is None else environ
    for name in CLI_LANGUAGE_VARIABLES:
        value = env.get(name, "").strip()
        if value and value.split(".", 1)[0].upper() not in ("C", "POSIX"):
            return normalise_locale(value.split(".", 1)[0])
    return DEFAULT_LOCALE


def cli_text(msgid: str, **params: Any) -> str:
    """*msgid* in the command line's language (:func:`cli_locale`): CLI output meant for people."""
    return translate(cli_locale(), msgid, **params)


def ntranslate(locale: str | None, singular: str, plural: str, n: int, **params: Any) -> str:
    text = _translations(normalise_locale(locale)).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def _fits(msgid: str, params: dict[str, Any]) -> bool:
    try:
        msgid % params
    except (KeyError, ValueError, TypeError):
        return False
    return True
