"""Pages /reports (charts, tables, downloads) and /admin/audit (filters, paging) through the test client."""

from __future__ import annotations

import csv
import io
import xml.dom.minidom
from datetime import timedelta
from typing import Any

import openpyxl
import pytest

from confbridge.audit.models import record
from confbridge.launch.models import CallLeg, ConferenceRun, LegState, RunState
from tests.integration.launch.helpers import book, make_endpoints

PERIOD = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def runs(session_factory: Any, frozen_clock: Any, make_user: Any) -> Any:
    """Two ended conferences on 29/11/2026: the secretary's (one leg connected, one busy ×3) and another's."""
    thuky, other = make_user("secretary", "thuky"), make_user("secretary", "thuky2")
    eps = make_endpoints(session_factory, 3, prefix="Phòng <họp>")
    start = frozen_clock.now() - timedelta(days=1)
    out = []
    for organiser, endpoints in ((thuky, eps[:2]), (other, eps[2:])):
        meeting_id, occ = book(session_factory, start, minutes=60, setup=5, endpoints=endpoints,
                               organiser_id=organiser.id, title=f"Họp của {organiser.username}")
        with session_factory.begin() as s:
            run = ConferenceRun(occurrence_id=occ, meeting_id=meeting_id, bridge_name="mcu-1",
                                conference_name=f"cb-{occ}", state=RunState.ENDED,
                                planned_start=start - timedelta(minutes=5), planned_end=start + timedelta(hours=1),
                                first_call_at=start - timedelta(minutes=5), lateness_ms=800,
                                ended_at=start + timedelta(hours=1))
            s.add(run)
            s.flush()
            for i, ep in enumerate(endpoints):
                connected = i == 0
                s.add(CallLeg(run_id=run.id, endpoint_id=ep, participant_name=f"p{ep}", protocol="sip",
                              address=f"{ep}@127.0.0.1", display_name=str(ep),
                              state=LegState.DISCONNECTED if connected else LegState.FAILED,
                              attempts=1 if connected else 3, first_connected_at=start if connected else None,
                              first_connect_attempt=1 if connected else None,
                              connected_seconds=3600 if connected else 0,
                              fail_reason=None if connected else "busy"))
            out.append(run.id)
    return {"runs": out, "secretary": thuky}


def test_reports_page_draws_charts_with_their_numbers_and_downloads(runs: Any, browser_for: Any,
                                                                     make_user: Any) -> None:
    b = browser_for(make_user("technician", "kythuat"))
    page = b.get(f"/reports?{PERIOD}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("per_day", "usage_site", "failures", "availability"):
        assert f'src="/reports/charts/{name}.svg?' in html and f'id="table-{name}"' in html
    assert "Phòng &lt;họp&gt;" in html and "<họp>" not in html
    assert "máy bận" in html  # failures by reason, in words
    chart = b.get(f"/reports/charts/usage_site.svg?{PERIOD}")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert "script-src" not in chart.headers["Content-Security-Policy"]
    assert chart.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert b"<script" not in chart.data
    xml.dom.minidom.parseString(chart.data)  # a well-formed SVG document
    assert "Kiên Giang" in chart.data.decode()
    assert b.get(f"/reports/charts/nothing.svg?{PERIOD}").status_code == 404
    data = b.get(f"/reports/export/conferences.csv?{PERIOD}")
    assert data.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.data.decode("utf-8-sig"))))
    assert len(rows) == 4 and any(row[rows[0].index("Lý do")] == "máy bận" for row in rows[1:])
    sheet = openpyxl.load_workbook(io.BytesIO(b.client.get(f"/reports/export/usage-site.xlsx?{PERIOD}").data)).active
    assert sheet is not None and sheet["A2"].value == "Kiên Giang" and sheet["B2"].value == 2


def test_reports_page_access_and_bad_periods(runs: Any, browser_for: Any) -> None:
    anonymous = browser_for()
    assert anonymous.get("/reports").status_code == 302
    b = browser_for(runs["secretary"])
    html = b.get(f"/reports?{PERIOD}").get_data(as_text=True)
    assert "Họp của thuky" not in html  # titles are not on the page; the counts are hers only
    summary = html[html.index('id="report-summary"'):html.index("</dl>", html.index('id="report-summary"'))]
    assert "<dd>1</dd>" in summary
    bad = b.get("/reports?from=2026-11-30&to=2026-11-01")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)


def test_audit_page_filters_and_pages(session_factory: Any, browser_for: Any, admin: Any, make_user: Any,
                                      frozen_clock: Any) -> None:
    with session_factory.begin() as s:
        for i in range(60):
            record(s, admin.id, "meeting.update", "meeting", 7, before={"title": f"Họp <{i}>"},
                   after={"title": f"Họp <{i + 1}>"}, changes=["title"])
        record(s, admin.id, "endpoint.disable", "endpoint", 3, name="UBND huyện An Minh")
    tech = browser_for(make_user("technician"))
    assert tech.get("/admin/audit").status_code == 403
    b = browser_for(admin)
    page = b.get("/admin/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<tr>") == 1 + 50  # the header row and a page of 50
    assert "Họp &lt;58&gt;" in html and "Trang 1 trên 2" in html and "/api/v1/audit?format=csv" in html
    second = b.get("/admin/audit?page=2").get_data(as_text=True)
    assert html.count("<code>meeting.update</code>") + second.count("<code>meeting.update</code>") == 60
    only = b.get("/admin/audit?action=endpoint.disable").get_data(as_text=True)
    assert "UBND huyện An Minh" in only and "meeting.update</code>" not in only
    assert b.get("/admin/audit?from=hôm-qua").status_code == 422
    csv_text = b.get("/api/v1/audit?format=csv&action=endpoint.disable").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(csv_text)))) == 2
