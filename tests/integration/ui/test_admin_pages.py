"""Admin pages: endpoints (create, edit, disable, CSV import report), bridges (no secrets, probe against
the real emulator process), users and roles."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.auth.models import User
from confbridge.directory.models import Endpoint


def test_create_edit_and_disable_an_endpoint(
    browser_for: Any, admin: Any, session_factory: sessionmaker[Session]
) -> None:
    b = browser_for(admin)
    long_name = "Trung tâm Hội nghị Ủy ban Nhân dân huyện đảo Kiên Hải — phòng họp trực tuyến số 2 (tầng 3)"
    bad = b.post(
        "/admin/endpoints/new",
        {
            "name": long_name,
            "site": "Huyện Kiên Hải",
            "protocol": "sip",
            "address": "not a sip uri",
            "seats": "abc",
        },
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Cần một SIP URI, ví dụ room@vc.example." in page and "Cần một số nguyên." in page
    assert f'value="{long_name}"' in page  # what was typed is kept
    ok = b.post(
        "/admin/endpoints/new",
        {
            "name": long_name,
            "site": "Huyện Kiên Hải",
            "protocol": "sip",
            "address": "kienhai-2@vc.kiengiang.example",
            "seats": "40",
        },
    )
    assert ok.status_code == 302
    listing = b.get("/admin/endpoints").get_data(as_text=True)
    assert long_name in listing and "Đã lưu điểm cầu" in listing
    with session_factory() as s:
        endpoint = s.scalar(select(Endpoint).where(Endpoint.address == "kienhai-2@vc.kiengiang.example"))
        endpoint_id = endpoint.id
    dup = b.post(
        "/admin/endpoints/new",
        {
            "name": "Khác",
            "site": "X",
            "protocol": "sip",
            "address": "kienhai-2@vc.kiengiang.example",
            "seats": "1",
        },
    )
    assert dup.status_code == 422
    assert "Địa chỉ “kienhai-2@vc.kiengiang.example” đã được dùng." in dup.get_data(as_text=True)
    edited = b.post(
        f"/admin/endpoints/{endpoint_id}/edit",
        {
            "name": "Kiên Hải 2",
            "site": "Huyện Kiên Hải",
            "protocol": "sip",
            "address": "kienhai-2@vc.kiengiang.example",
            "seats": "45",
        },
    )
    assert edited.status_code == 302, re.findall(
        r"field-error[^>]*>([^<]*)|alert-error[^>]*>([^<]*)", edited.get_data(as_text=True)
    )
    assert b.post(f"/admin/endpoints/{endpoint_id}/enabled", {"enabled": "0"}).status_code == 302
    with session_factory() as s:
        endpoint = s.get(Endpoint, endpoint_id)
        assert (endpoint.name, endpoint.seats, endpoint.enabled) == ("Kiên Hải 2", 45, False)
    # A disabled endpoint is no longer offered on the booking form.
    b.get("/admin/endpoints")  # the flash message names it; the next page must not
    assert "Kiên Hải 2" not in b.get("/bookings/new").get_data(as_text=True)


def test_csv_import_reports_each_bad_row(
    browser_for: Any, admin: Any, session_factory: sessionmaker[Session]
) -> None:
    b = browser_for(admin)
    csv_text = (
        "name,site,protocol,address,seats\n"
        "UBND xã Mỹ Đức,Hà Tiên,sip,myduc@vc.kiengiang.example,20\n"
        "Xã lỗi giao thức,Hà Tiên,isdn,loi@vc.kiengiang.example,10\n"
        ",Hà Tiên,sip,trong@vc.kiengiang.example,10\n"
        "UBND xã Thuận Yên,Hà Tiên,h323,842973000777,15\n"
    )
    response = b.post(
        "/admin/endpoints/import",
        {"file": (io.BytesIO(csv_text.encode("utf-8-sig")), "diem-cau.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Thêm mới: 2 · Cập nhật: 0 · Lỗi: 2" in page
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", page)
    assert [r[0] for r in rows] == ["3", "4"]
    # Each bad row names its column and says what is wrong in the reader's language (Vietnamese here).
    assert rows == [("3", "protocol: Chọn một trong: sip, h323."), ("4", "name: Bắt buộc.")]
    with session_factory() as s:
        names = set(s.scalars(select(Endpoint.name)))
    assert {"UBND xã Mỹ Đức", "UBND xã Thuận Yên"} <= names
    missing = b.post(
        "/admin/endpoints/import",
        {"file": (io.BytesIO(b"name,site\nA,B\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422 and "Tệp CSV thiếu cột" in missing.get_data(as_text=True)
    latin1 = b.post(
        "/admin/endpoints/import",
        {"file": (io.BytesIO("name,site\nHà,B\n".encode("latin-1", "replace")), "x.csv")},
        content_type="multipart/form-data",
    )
    assert latin1.status_code == 422


def test_bridges_page_shows_settings_never_the_password(
    settings: Any,
    engine: Any,
    make_user: Any,
    mcu_emulator: Any,
) -> None:
    from confbridge.app import create_app
    from tests.integration.ui.conftest import Browser

    bridge = mcu_emulator.bridge_settings(name="mcu-tinh", video_ports=40, default=True).model_dump()
    broken = {
        **bridge,
        "name": "mcu-hong",
        "url": "http://127.0.0.1:9/RPC2",
        "default": False,
        "timeout_seconds": 2.0,
    }
    app = create_app(settings.with_overrides(bridges=[bridge, broken]), engine=engine, testing=True)
    user = make_user("admin", "quantri")
    b = Browser(app.test_client())
    b.login(user.username, user.password)
    page = b.get("/admin/bridges").get_data(as_text=True)
    assert "mcu-tinh" in page and mcu_emulator.url in page
    assert f"từ biến môi trường {mcu_emulator.password_env}" in page
    assert mcu_emulator.password not in page

    mcu_emulator.device(model="MCU 5320 <thử nghiệm>")
    probed = b.post("/admin/bridges/mcu-tinh/probe").get_data(as_text=True)
    answer = probed.split('id="probe-result"')[1]
    assert "Cầu MCU trả lời:" in answer and "MCU 5320 &lt;thử nghiệm&gt;" in answer and "4.5(1.72)" in answer
    assert mcu_emulator.password not in probed
    assert mcu_emulator.state()["stats"]["calls"].get("device.query", 0) >= 1

    failed = b.post("/admin/bridges/mcu-hong/probe").get_data(as_text=True).split('id="probe-result"')[1]
    assert "Không kết nối được:" in failed
    assert b.post("/admin/bridges/khong-co/probe").status_code == 404


def test_users_and_roles(browser_for: Any, admin: Any, session_factory: sessionmaker[Session]) -> None:
    b = browser_for(admin)
    short = b.post(
        "/admin/users",
        {
            "username": "chuyenvien",
            "display_name": "Trần Thị Chuyên Viên",
            "email": "cv@kiengiang.example",
            "role": "secretary",
            "password": "ngan",
        },
    )
    assert short.status_code == 422 and "Mật khẩu cần ít nhất 10 ký tự." in short.get_data(as_text=True)
    created = b.post(
        "/admin/users",
        {
            "username": "chuyenvien",
            "display_name": "Trần Thị Chuyên Viên",
            "email": "cv@kiengiang.example",
            "role": "secretary",
            "password": "mat-khau-du-dai",
        },
    )
    assert created.status_code == 302
    officer = browser_for()
    assert officer.login("chuyenvien", "mat-khau-du-dai").status_code == 302
    assert officer.get("/bookings/new").status_code == 200
    with session_factory() as s:
        user_id = s.scalar(select(User.id).where(User.username == "chuyenvien"))
    assert b.post(f"/admin/users/{user_id}", {"role": "technician", "active": "1"}).status_code == 302
    # The role change ends the old session; signing in again gives the new role.
    assert officer.get("/bookings/new").status_code == 302
    officer.login("chuyenvien", "mat-khau-du-dai")
    assert officer.get("/bookings/new").status_code == 403
    with session_factory() as s:
        admin_id = s.scalar(select(User.id).where(User.username == "admin"))
    b.post(f"/admin/users/{admin_id}", {"role": "secretary", "active": "1"})
    assert "Bạn không thể tự bỏ quyền quản trị" in b.get("/admin/users").get_data(as_text=True)
    assert b.get("/admin/endpoints").status_code == 200
