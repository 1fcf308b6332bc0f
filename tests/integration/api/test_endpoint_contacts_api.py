"""Issue 14 point 6: endpoint contact fields (the room's technician) through REST, the admin form and the
CSV import; the e-mail is checked by the one e-mail rule (confbridge.text), refusals name their field."""

from __future__ import annotations

from typing import Any

from tests.conftest import both_databases

EN = {"Accept-Language": "en"}
ROOM = {"name": "UBND huyện Phú Quốc", "site": "Phú Quốc", "protocol": "sip",
        "address": "phuquoc@vc.kiengiang.example", "seats": 30}


@both_databases
def test_contacts_are_stored_returned_changed_and_checked(client: Any, admin: Any, secretary: Any) -> None:
    r = client.post("/api/v1/endpoints", headers=admin.headers, json={
        **ROOM, "contact_name": "Phạm Văn Kỹ", "contact_email": " kt.phuquoc@ubnd.example ",
        "contact_phone": "+84 297 3846 000"})
    assert r.status_code == 201, r.json
    assert (r.json["contact_name"], r.json["contact_email"], r.json["contact_phone"]) == (
        "Phạm Văn Kỹ", "kt.phuquoc@ubnd.example", "+84 297 3846 000")
    eid = r.json["id"]
    got = client.get(f"/api/v1/endpoints/{eid}", headers=secretary.headers).json
    assert got["contact_email"] == "kt.phuquoc@ubnd.example"
    p = client.patch(f"/api/v1/endpoints/{eid}", headers=admin.headers, json={"contact_phone": ""})
    assert p.status_code == 200 and p.json["contact_phone"] == "" and p.json["contact_name"] == "Phạm Văn Kỹ"
    bad = client.patch(f"/api/v1/endpoints/{eid}", headers={**admin.headers, **EN},
                       json={"contact_email": "kt@ubnd.example\r\nBcc: x@evil.example", "contact_phone": "call me"})
    assert bad.status_code == 422
    codes = {e["field"]: e["code"] for e in bad.json["errors"]}
    assert codes == {"contact_email": "invalid_email", "contact_phone": "bad_phone"}
    assert "digits" in bad.json["fields"]["contact_phone"]
    # Only admins change the directory.
    assert client.patch(f"/api/v1/endpoints/{eid}", headers=secretary.headers,
                        json={"contact_name": "X"}).status_code == 403
    # A contact is optional.
    plain = client.post("/api/v1/endpoints", headers=admin.headers,
                        json={**ROOM, "name": "Xã Dương Tơ", "address": "duongto@vc.kiengiang.example"})
    assert plain.status_code == 201 and plain.json["contact_email"] == ""
