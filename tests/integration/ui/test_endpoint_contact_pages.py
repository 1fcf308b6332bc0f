"""Issue 14 point 6: the admin endpoint form and the CSV import carry the endpoint's contact."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.directory.models import Endpoint

ROOM = {"name": "UBND huyện Phú Quốc", "site": "Phú Quốc", "protocol": "sip",
        "address": "phuquoc@vc.kiengiang.example", "seats": 30}


def test_admin_form_and_csv_import_carry_the_contact(
        browser_for: Any, admin: Any, session_factory: sessionmaker[Session]) -> None:
    b = browser_for(admin)
    page = b.get("/admin/endpoints/new").get_data(as_text=True)
    assert 'name="contact_email"' in page and 'type="tel"' in page
    bad = b.post("/admin/endpoints/new", {**{k: str(v) for k, v in ROOM.items()}, "contact_email": "không-phải-email"})
    assert bad.status_code == 422 and 'id="contact_email-error"' in bad.get_data(as_text=True)
    ok = b.post("/admin/endpoints/new", {**{k: str(v) for k, v in ROOM.items()},
                                         "contact_name": "Phạm Văn Kỹ", "contact_email": "kt@ubnd.example"})
    assert ok.status_code == 302
    csv_text = ("name,site,protocol,address,contact_name,contact_email,contact_phone\n"
                "UBND xã Mỹ Đức,Hà Tiên,sip,myduc@vc.kiengiang.example,Lê Thị Hoa,hoa@ubnd.example,0297 111 222\n"
                "UBND xã Lỗi,Hà Tiên,sip,loi@vc.kiengiang.example,Ai đó,không-hợp-lệ,\n")
    response = b.post("/admin/endpoints/import",
                      {"file": (io.BytesIO(csv_text.encode("utf-8-sig")), "diem-cau.csv")},
                      content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Thêm mới: 1 · Cập nhật: 0 · Lỗi: 1" in response.get_data(as_text=True)
    with session_factory() as s:
        rows = {e.name: e for e in s.scalars(select(Endpoint))}
    assert rows["UBND huyện Phú Quốc"].contact_email == "kt@ubnd.example"
    assert (rows["UBND xã Mỹ Đức"].contact_name, rows["UBND xã Mỹ Đức"].contact_email,
            rows["UBND xã Mỹ Đức"].contact_phone) == ("Lê Thị Hoa", "hoa@ubnd.example", "0297 111 222")
    assert "UBND xã Lỗi" not in rows
