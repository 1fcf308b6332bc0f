"""Notice codes render in the reader's language; rows written before codes keep their stored text."""

from __future__ import annotations

import pytest

from confbridge.notices import MESSAGES, coded, reason, render


def test_nested_codes_render_in_the_readers_language() -> None:
    params = {"old": coded("state.starting"), "new": coded("state.failed"),
              "why": coded("why.step_failed", what=coded("step.create"), reason="HTTP 500")}
    assert render("state.changed_why", params, "vi") == "Đang khởi tạo → Thất bại: Tạo hội nghị: HTTP 500"
    assert render("state.changed_why", params, "en") == "Starting → Failed: Create the conference: HTTP 500"


def test_known_reasons_are_words_and_bridge_text_stays_as_is() -> None:
    assert render("leg.dropped", {"endpoint": "UBND xã Hòn Tre", "reason": reason("remote_hangup")}, "en") == (
        "UBND xã Hòn Tre: call dropped (remote hang-up)")
    assert reason("fault 201: Duplicate") == "fault 201: Duplicate"
    assert reason(None) == {"code": "reason.other"}


def test_an_old_row_without_a_code_shows_its_stored_text() -> None:
    old = "UBND huyện Giang Thành rớt khỏi cb-4-20261202T1700Z (remote_hangup) / call dropped"
    assert render(None, None, "en", fallback=old) == old


def test_user_text_is_a_parameter_not_a_format() -> None:
    text = render("leg.connected", {"endpoint": "%(evil)s <b>"}, "en")
    assert text == "%(evil)s <b>: connected"  # shown as is; pages escape it


def test_unknown_codes_are_refused_when_written() -> None:
    with pytest.raises(KeyError):
        coded("state.sleeping")
    assert all(code.count(".") == 1 for code in MESSAGES)
