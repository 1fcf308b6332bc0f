"""Pages for endpoint groups (/admin/groups) and meeting templates (/templates, the booking form's
"start from a template", "+ group" and "save as template"), through the test client with CSRF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from confbridge.booking.templates import MeetingTemplate
from confbridge.directory.groups import EndpointGroup
from tests.integration.ui.conftest import booking_form

pytestmark = pytest.mark.usefixtures("frozen_clock")


def _group_id(session_factory: sessionmaker[Session], name: str) -> int:
    with session_factory() as s:
        group = s.scalar(select(EndpointGroup).where(EndpointGroup.name == name))
        assert group is not None
        return group.id


def test_admin_manages_groups_in_both_languages(
    browser_for: Any, admin: Any, demo_endpoints: dict[str, int], session_factory: sessionmaker[Session],
) -> None:
    ids = list(demo_endpoints.values())
    b = browser_for(admin)
    empty = b.get("/admin/groups/").get_data(as_text=True)
    assert "Chưa có nhóm điểm cầu nào." in empty
    created = b.post("/admin/groups/new", {"name": "Các huyện phía Nam", "endpoint_ids": [str(i) for i in ids[1:4]]})
    assert created.status_code == 302
    listing = b.get("/admin/groups/").get_data(as_text=True)
    assert "Đã lưu nhóm điểm cầu “Các huyện phía Nam”." in listing and "Các huyện phía Nam" in listing
    # A taken name is refused at its field, what was typed is kept.
    dup = b.post("/admin/groups/new", {"name": "các huyện phía nam", "endpoint_ids": [str(ids[0])]})
    page = dup.get_data(as_text=True)
    assert dup.status_code == 422 and "Tên “các huyện phía nam” đã được dùng." in page
    assert 'id="name-error"' in page and 'value="các huyện phía nam"' in page
    b.post("/language", {"locale": "en", "next": "/admin/groups/"})
    english = b.post("/admin/groups/new", {"name": "các huyện phía nam"}).get_data(as_text=True)
    assert "The name “các huyện phía nam” is already used." in english and "Add an endpoint group" in english
    b.post("/language", {"locale": "vi", "next": "/admin/groups/"})
    # Edit: replace the endpoints.
    gid = _group_id(session_factory, "Các huyện phía Nam")
    form = b.get(f"/admin/groups/{gid}/edit").get_data(as_text=True)
    assert re.search(rf'value="{ids[1]}"\s+checked', form)
    assert b.post(f"/admin/groups/{gid}/edit", {"name": "Các huyện phía Nam",
                                                "endpoint_ids": [str(ids[5])]}).status_code == 302
    with session_factory() as s:
        group = s.get(EndpointGroup, gid)
        assert group is not None and group.endpoint_ids == [ids[5]]
    # Without the form token the page refuses.
    assert b.client.post(f"/admin/groups/{gid}/delete").status_code in (400, 403)
    deleted = b.post(f"/admin/groups/{gid}/delete")
    assert deleted.status_code == 302
    assert "các cuộc họp đã đặt vẫn giữ nguyên điểm cầu" in b.get("/admin/groups/").get_data(as_text=True)


def test_untrusted_group_and_template_names_are_escaped(
    browser_for: Any, admin: Any, secretary: Any, demo_endpoints: dict[str, int],
) -> None:
    ids = list(demo_endpoints.values())
    name = '<img src=x onerror="alert(1)">'
    a = browser_for(admin)
    assert a.post("/admin/groups/new", {"name": name, "endpoint_ids": [str(ids[0])]}).status_code == 302
    b = browser_for(secretary)
    form = b.get("/bookings/new").get_data(as_text=True)
    assert name not in form and "&lt;img src=x" in form
    saved = b.post("/bookings/new", booking_form(ids[:2], action="save_template", template_name=name))
    assert saved.status_code == 200
    listing = b.get("/templates/").get_data(as_text=True)
    assert name not in listing and "&lt;img src=x" in listing


def test_booking_form_picks_a_group_starts_from_and_saves_a_template(
    browser_for: Any, admin: Any, secretary: Any, make_user: Any, demo_endpoints: dict[str, int],
    session_factory: sessionmaker[Session],
) -> None:
    ids = list(demo_endpoints.values())
    a = browser_for(admin)
    a.post("/admin/groups/new", {"name": "Giao ban huyện", "endpoint_ids": [str(i) for i in ids[2:6]]})
    gid = _group_id(session_factory, "Giao ban huyện")
    b = browser_for(secretary)
    page = b.get("/bookings/new").get_data(as_text=True)
    assert f'name="add_group" value="{gid}"' in page and "+ Giao ban huyện (4)" in page
    assert "Chưa có mẫu lịch họp" in page
    # The group button without script: the server ticks its endpoints besides those chosen.
    added = b.post("/bookings/new", booking_form([ids[0]], add_group=str(gid), action="check"))
    html = added.get_data(as_text=True)
    assert added.status_code == 200
    ticked = {int(v) for v in re.findall(r'name="endpoint_ids" value="(\d+)" checked', html)}
    assert ticked == {ids[0], *ids[2:6]}
    assert 'class="alert alert-error"' not in html

    # Save the form as a template; the name is required and unique among her templates.
    form = booking_form([ids[0], *ids[2:6]], title="Giao ban tuần các huyện", duration="120", setup_minutes="20")
    missing = b.post("/bookings/new", {**form, "action": "save_template", "template_name": ""})
    assert missing.status_code == 422 and 'id="template_name-error"' in missing.get_data(as_text=True)
    saved = b.post("/bookings/new", {**form, "action": "save_template", "template_name": "Giao ban thứ Hai"})
    assert saved.status_code == 200 and "Đã lưu mẫu lịch họp “Giao ban thứ Hai”." in saved.get_data(as_text=True)
    with session_factory() as s:
        template = s.scalar(select(MeetingTemplate).where(MeetingTemplate.name == "Giao ban thứ Hai"))
        assert template is not None
        assert template.title == "Giao ban tuần các huyện" and template.duration_minutes == 120
        assert template.setup_minutes == 20 and sorted(template.endpoint_ids) == sorted([ids[0], *ids[2:6]])
        assert template.rrule == "FREQ=WEEKLY;BYDAY=MO;COUNT=10"
        assert [a["email"] for a in template.attendees] == ["an.nv@kiengiang.example", "le.thi.b@kiengiang.example"]
        tid = template.id
    dup = b.post("/bookings/new", {**form, "action": "save_template", "template_name": "giao ban THỨ HAI"})
    assert dup.status_code == 422 and "đã được dùng" in dup.get_data(as_text=True)

    # Start from the template: the form is filled, the date and time stay to choose.
    listing = b.get("/templates/").get_data(as_text=True)
    assert "Giao ban thứ Hai" in listing and f"/bookings/new?template={tid}" in listing
    filled = b.get(f"/bookings/new?template={tid}").get_data(as_text=True)
    assert 'value="Giao ban tuần các huyện"' in filled and '<option value="120" selected>' in filled
    assert {int(v) for v in re.findall(r'name="endpoint_ids" value="(\d+)" checked', filled)} == {ids[0], *ids[2:6]}
    assert re.search(r'name="repeat" value="weekly" checked', filled)
    assert "an.nv@kiengiang.example" in filled
    # Another secretary neither sees nor opens it.
    other = browser_for(make_user("secretary", "thuky_b"))
    assert "Giao ban thứ Hai" not in other.get("/templates/").get_data(as_text=True)
    assert other.get(f"/bookings/new?template={tid}").status_code == 404
    assert other.post(f"/templates/{tid}/delete").status_code == 404
    # Deleting it keeps nothing else from working.
    assert b.post(f"/templates/{tid}/delete").status_code == 302
    assert "Chưa có mẫu lịch họp nào." in b.get("/templates/").get_data(as_text=True)
