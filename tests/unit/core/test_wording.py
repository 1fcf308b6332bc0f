"""Every word a person reads comes from the catalogue.

* No Vietnamese string literal in ``confbridge/`` outside message ids (the argument of ``N_``, ``_``,
  ``gettext``, ``translate``, ``cli_text``…), the demo data and the few listed exceptions.
* No command's help text is Vietnamese (help is read in a terminal of any language; it is English).
* Every message id marked anywhere in ``confbridge/`` or ``web/templates/`` has its English translation,
  with the same ``%(name)s`` parameters, and the English catalogue holds no Vietnamese text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import click
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from confbridge.cli import main
from confbridge.settings import PROJECT_ROOT

VIETNAMESE = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.I)
PACKAGE = PROJECT_ROOT / "confbridge"
# Calls whose string arguments are message ids (the catalogue's Vietnamese source text).
MARKERS = {"N_", "_", "gettext", "ngettext", "lazy_gettext", "translate", "ntranslate", "bilingual", "cli_text"}
# Extraction keywords for the same calls (argument positions of the msgid).
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "N_": None, "_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
    "translate": (2,), "ntranslate": (2, 3), "bilingual": None, "cli_text": None,
}
EXEMPT_FILES = {"confbridge/demo.py"}  # demo data: names of people, places and meetings
EXEMPT_TEXTS = {
    ("confbridge/i18n.py", "Tiếng Việt"),  # a language is offered under its own name
    ("confbridge/directory/service.py", "không"),  # a word people type in CSV files ("enabled: không")
}
PARAM = re.compile(r"%\((\w+)\)[sd]")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _marked(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in MARKERS:
                ids |= {id(sub) for arg in node.args for sub in ast.walk(arg)}
    return ids


def _vietnamese_literals() -> Iterator[str]:
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PROJECT_ROOT).as_posix()
        if where in EXEMPT_FILES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree) | _marked(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                    and VIETNAMESE.search(node.value) and (where, node.value) not in EXEMPT_TEXTS):
                yield f"{where}:{node.lineno}: {node.value[:70]!r}"


def test_no_vietnamese_literal_outside_the_catalogue() -> None:
    found = list(_vietnamese_literals())
    assert found == [], "mark these with N_() and translate them at the edge:\n" + "\n".join(found)


def test_the_scan_finds_an_unmarked_literal() -> None:
    tree = ast.parse('"""Tài liệu."""\nx = "Đã hủy"\ny = N_("Đã hủy")\n')
    skip = _docstrings(tree) | _marked(tree)
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in skip]
    assert found == ["Đã hủy"]


def _commands(group: click.Command, prefix: str = "confbridge") -> Iterator[tuple[str, click.Command]]:
    yield prefix, group
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            yield from _commands(command, f"{prefix} {name}")


def test_command_help_is_not_vietnamese() -> None:
    found = [name for name, command in _commands(main) if VIETNAMESE.search(command.help or "")]
    assert found == []


def _msgids() -> dict[str, str]:
    ids: dict[str, str] = {}
    for folder, method, pattern in ((PACKAGE, "python", "**.py"),
                                    (PROJECT_ROOT / "web" / "templates", "jinja2", "**.html")):
        for file, line, message, _comments, _context in extract_from_dir(
                str(folder), method_map=[(pattern, method)], keywords=KEYWORDS):
            for msgid in (message if isinstance(message, tuple) else (message,)):
                if msgid:
                    ids.setdefault(msgid, f"{folder.name}/{file}:{line}")
    return ids


def _english() -> dict[str, str]:
    with (PROJECT_ROOT / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and isinstance(m.id, str)}


def test_every_marked_text_has_its_english_translation_with_the_same_parameters() -> None:
    ids, english = _msgids(), _english()
    assert len(ids) > 400  # pages, console, notices, mail, CLI
    missing = {msgid: where for msgid, where in ids.items() if not english.get(msgid)}
    assert missing == {}, f"append these to web/translations/en/LC_MESSAGES/messages.po: {missing}"
    mismatched = [msgid for msgid in ids
                  if sorted(PARAM.findall(msgid)) != sorted(PARAM.findall(english[msgid]))]
    assert mismatched == []


def test_the_english_catalogue_has_no_vietnamese_text() -> None:
    assert [msgid for msgid, text in _english().items() if VIETNAMESE.search(text)] == []


def test_the_vietnamese_catalogue_is_the_source_text() -> None:
    """vi/messages.po carries only its header: the msgids are the Vietnamese text, so it is complete."""
    with (PROJECT_ROOT / "web" / "translations" / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    assert [m.id for m in catalog if m.id] == []
    assert all(VIETNAMESE.search(msgid) or not re.search(r"[A-Za-z]{4}", PARAM.sub("", msgid))
               for msgid in _msgids()), "a msgid is written in English: write the Vietnamese text"
