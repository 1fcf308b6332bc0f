"""Field errors are codes with catalogue words, never English prose.

* No ``InvalidInput`` in ``confbridge/`` is built from a ``fields`` mapping of text (that path wraps the
  text as code ``invalid`` with an English ``detail`` a Vietnamese reader would see).
* Every ``FieldError.of(field, code)`` with literal arguments has its words in ``FIELD_MESSAGES`` and
  passes no ``detail``.
* Every domain error raised with a literal message goes through ``.said(N_(...))``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from confbridge.errors import FIELD_MESSAGES, FieldError, InvalidInput, NotFound
from confbridge.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "confbridge"
DOMAIN_ERRORS = {"Conflict", "NotFound", "Forbidden", "Unauthorized", "TooManyRequests", "InvalidInput"}


def _calls() -> Iterator[tuple[str, ast.Call]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(PROJECT_ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), name)):
            if isinstance(node, ast.Call):
                yield f"{name}:{node.lineno}", node


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _literals(node: ast.expr) -> list[str]:
    """The strings an argument can be: a constant, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def test_no_invalid_input_is_built_from_english_field_text() -> None:
    offenders = [where for where, call in _calls()
                 if _name(call.func) == "InvalidInput"
                 and (len(call.args) > 1 or any(k.arg == "fields" for k in call.keywords))]
    assert offenders == [], "raise InvalidInput.of([FieldError.of(field, code, **params)]) instead"


def test_every_literal_field_error_code_has_catalogue_words_and_no_detail() -> None:
    missing, detailed = [], []
    for where, call in _calls():
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "of" and _name(func.value) == "FieldError"):
            continue
        if any(k.arg == "detail" for k in call.keywords):
            detailed.append(where)
        for field in _literals(call.args[0]) or [None]:
            for code in _literals(call.args[1]):
                if (str(field).split(".")[0], code) not in FIELD_MESSAGES and code not in FIELD_MESSAGES:
                    missing.append(f"{where} ({field}, {code})")
    assert detailed == []
    assert missing == []


def test_domain_errors_with_literal_text_are_message_ids() -> None:
    """``Conflict("english text")`` reads English to everyone; ``Conflict.said(N_("…"))`` reads each
    reader's language.  (Pages that already translate with ``_()`` pass their words as they are.)"""
    offenders = []
    for where, call in _calls():
        if _name(call.func) in DOMAIN_ERRORS and isinstance(call.func, ast.Name) and call.args:
            first = call.args[0]
            if isinstance(first, ast.Constant | ast.JoinedStr | ast.BinOp):
                offenders.append(where)
    assert offenders == []


def test_a_field_error_reads_in_both_languages() -> None:
    error = InvalidInput.of([FieldError.of("rrule", "no_end")])
    assert error.as_dict("vi")["fields"]["rrule"].startswith("Chuỗi lịch phải kết thúc")
    assert error.as_dict("en")["fields"]["rrule"].startswith("The series must end")
    assert error.text("en") == error.fields["rrule"]


def test_a_domain_error_keeps_its_code_and_extras_in_every_language() -> None:
    error = NotFound.said("Không có cảnh báo số %(id)s.", id=7, extra={"alarm_id": 7})
    assert error.message == "Alarm 7 not found."
    assert error.as_dict("vi") == {"error": "not_found", "message": "Không có cảnh báo số 7.", "alarm_id": 7}
    assert error.as_dict("en") == {"error": "not_found", "message": "Alarm 7 not found.", "alarm_id": 7}
