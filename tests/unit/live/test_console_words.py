"""The console's words come from the catalogue: the English console has no Vietnamese text and the
Vietnamese console no English, and the 'no conference' line follows ``live.imminent_minutes``."""

from __future__ import annotations

import re

from confbridge.live.console import strings_for

VIETNAMESE = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.I)


def test_the_english_console_has_no_vietnamese_text() -> None:
    english = strings_for("en", 60)
    assert not {key: text for key, text in english.items() if VIETNAMESE.search(text)}
    assert english["state_live"] == "Live" and english["status_in_call"] == "In a meeting"
    assert english["mute"] == "Mute" and english["reason_busy"] == "busy"


def test_the_vietnamese_console_has_no_english_text() -> None:
    vietnamese, english = strings_for("vi", 60), strings_for("en", 60)
    assert vietnamese.keys() == english.keys()
    same = {key for key in vietnamese if vietnamese[key] == english[key]}
    assert same == set(), f"untranslated or English in the Vietnamese console: {sorted(same)}"
    # One word per state, the same as the pages use ("Đã hủy", "Đang khởi tạo", "Đang diễn ra").
    assert (vietnamese["state_cancelled"], vietnamese["state_starting"], vietnamese["state_live"]) == (
        "Đã hủy", "Đang khởi tạo", "Đang diễn ra")


def test_the_empty_conference_list_names_the_configured_window() -> None:
    assert strings_for("vi", 90)["no_conferences"] == "Không có hội nghị nào trong 90 phút tới."
    assert strings_for("en", 45)["no_conferences"] == "No conference in the next 45 minutes."
