"""Every interface text has its English translation; catalogues compile from the .po at start."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from confbridge.settings import PROJECT_ROOT
from confbridge.ui.i18n import compile_catalogues

TRANSLATIONS = PROJECT_ROOT / "web" / "translations"


def _msgids() -> set[str]:
    ids: set[str] = set()
    for folder, method in (
        (PROJECT_ROOT / "confbridge" / "ui", "python"),
        (PROJECT_ROOT / "web" / "templates", "jinja2"),
    ):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder),
            method_map=[(pattern, method)],
            keywords={"_": None, "gettext": None},
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_interface_text_has_an_english_translation() -> None:
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(_msgids() - translated)
    assert len(_msgids()) > 250
    assert missing == [], f"add these to web/translations/en/LC_MESSAGES/messages.po: {missing}"


def test_catalogues_compile_when_missing_or_stale(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    written = compile_catalogues(copy)
    assert sorted(p.parent.parent.name for p in written) == ["en", "vi"]
    with (copy / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        assert read_mo(fh).get("Đặt lịch").string == "Book"
    assert compile_catalogues(copy) == []  # up to date: nothing to do
    po = copy / "en" / "LC_MESSAGES" / "messages.po"
    later = (copy / "en" / "LC_MESSAGES" / "messages.mo").stat().st_mtime + 10
    os.utime(po, (later, later))
    assert [p.parent.parent.name for p in compile_catalogues(copy)] == ["en"]
