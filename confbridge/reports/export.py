"""CSV (UTF-8 with a BOM, so Excel reads Vietnamese) and XLSX (openpyxl) of report rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from confbridge.i18n import translate

Columns = Sequence[tuple[str, str]]

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None, microsecond=0)
    return value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(columns: Columns, rows: Iterable[dict[str, Any]], locale: str, zone: ZoneInfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([translate(locale, label) for _key, label in columns])
    for row in rows:
        writer.writerow([_cell_text(_local(row.get(key), zone)) for key, _label in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: Columns, rows: Iterable[dict[str, Any]], locale: str, zone: ZoneInfo, title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append([translate(locale, label) for _key, label in columns])
    for row in rows:
        cells = []
        for key, _label in columns:
            value = _local(row.get(key), zone)
            if isinstance(value, str):
                value = _cell_text(value)
            elif value is not None and not isinstance(value, int | float | datetime):
                value = str(value)
            cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
