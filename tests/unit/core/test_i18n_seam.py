"""The request-independent translation seam (confbridge/i18n.py)."""

from __future__ import annotations

import pytest

from confbridge.i18n import negotiate, normalise_locale, translate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "vi"),
        ("", "vi"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
        ("fr-FR,en;q=0.5", "en"),
        ("fr, de", "vi"),
        ("en;q=0.3, vi;q=0.7", "vi"),
        ("en;q=0", "vi"),
        ("en;q=bogus", "vi"),
        ("en" + ",x" * 1000, "en"),
    ],
)
def test_accept_language_picks_a_spoken_locale(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_normalise_locale() -> None:
    assert normalise_locale("en_US") == "en"
    assert normalise_locale("EN") == "en"
    assert normalise_locale("ja") == "vi"
    assert normalise_locale(None) == "vi"


def test_translate_renders_the_catalogue_with_parameters() -> None:
    # "Lịch" is the nav label of the calendar page: an msgid every catalogue has.
    assert translate("vi", "Lịch") == "Lịch"
    assert translate("en", "Lịch") == "Calendar"
    assert translate("en", "không có trong danh mục %(x)s", x=1) == "không có trong danh mục 1"
    # A parameter the text does not use, or one it lacks, never raises.
    assert translate("en", "Lịch", unused=1) == "Calendar"
