"""Issue 13, points 1–3 against the MCU emulator: host in focus, join muted, mute all, layouts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from confbridge.app import create_app
from confbridge.audit.models import AuditEntry
from confbridge.booking.models import Meeting
from confbridge.launch.models import LegState
from tests.integration.launch.helpers import book, drive, engine_for, legs, make_endpoints, run_for, timeline


def _pname(endpoint_id: int) -> str:
    return f"cb-ep-{endpoint_id}"


@pytest.fixture
def giao_ban(settings: Any, engine: Any, session_factory: Any, frozen_clock: Any, mcu_emulator: Any) -> Any:
    """A join-muted giao ban chaired by the first of three endpoints, live with everyone connected."""
    eps = make_endpoints(session_factory, 3)
    meeting_id, occ = book(session_factory, frozen_clock.now() + timedelta(minutes=5), minutes=30, setup=5,
                           endpoints=eps)
    with session_factory.begin() as s:
        meeting = s.get(Meeting, meeting_id)
        meeting.host_endpoint_id, meeting.join_muted = eps[0], True
    s2, launch = engine_for(settings, session_factory, mcu_emulator.bridge_settings())
    drive(launch, frozen_clock, lambda: all(
        leg.state == LegState.CONNECTED for leg in legs(session_factory, run_for(session_factory, occ).id)))
    app = create_app(s2, engine=engine, testing=True)

    class GiaoBan:
        client = app.test_client()
        run = run_for(session_factory, occ)
        endpoints = eps
        engine_ = launch
        occurrence_id = occ

    yield GiaoBan
    launch.close()


def test_host_in_focus_and_everyone_else_joins_muted(giao_ban: Any, mcu_emulator: Any, make_user: Any) -> None:
    run, (host, a, b) = giao_ban.run, giao_ban.endpoints
    on_bridge = {ep: mcu_emulator.participant(run.conference_name, _pname(ep)) for ep in (host, a, b)}
    assert on_bridge[host]["important"] and not on_bridge[host]["audioRxMuted"]
    assert all(on_bridge[ep]["audioRxMuted"] and not on_bridge[ep]["important"] for ep in (a, b))
    tech = make_user("technician")
    body = giao_ban.client.get(f"/api/v1/conferences/{run.id}", headers=tech.headers).get_json()
    assert body["host_endpoint_id"] == host and body["join_muted"] is True
    muted = {p["endpoint_id"]: p["audio_muted"] for p in body["participants"]}
    assert muted == {host: False, a: True, b: True}


def test_host_keeps_the_focus_after_a_redial(giao_ban: Any, mcu_emulator: Any, session_factory: Any,
                                             frozen_clock: Any) -> None:
    run, host = giao_ban.run, giao_ban.endpoints[0]
    mcu_emulator.drop(run.conference_name, _pname(host))
    drive(giao_ban.engine_, frozen_clock, lambda: next(
        leg for leg in legs(session_factory, run.id) if leg.endpoint_id == host).attempts == 2
        and mcu_emulator.participant(run.conference_name, _pname(host))["callState"] == "connected",
        step=5.0)
    assert mcu_emulator.participant(run.conference_name, _pname(host))["important"]


def test_moving_the_focus_live(giao_ban: Any, mcu_emulator: Any, make_user: Any, session_factory: Any) -> None:
    run, (host, a, _b) = giao_ban.run, giao_ban.endpoints
    c, tech, secretary = giao_ban.client, make_user("technician"), make_user("secretary")
    url = f"/api/v1/conferences/{run.id}"
    assert c.patch(url, headers=secretary.headers, json={"host_endpoint_id": a}).status_code == 403
    bad = c.patch(url, headers=tech.headers, json={"host_endpoint_id": 999999})
    assert bad.status_code == 422 and "host_endpoint_id" in bad.get_json()["fields"]
    assert c.patch(url, headers=tech.headers, json={"host_endpoint_id": "x"}).status_code == 422
    r = c.patch(url, headers=tech.headers, json={"host_endpoint_id": a})
    assert r.status_code == 200 and r.get_json()["host_endpoint_id"] == a
    assert mcu_emulator.participant(run.conference_name, _pname(a))["important"]
    assert not mcu_emulator.participant(run.conference_name, _pname(host))["important"]
    with session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "conference.host")).one()
        assert entry.object_id == str(run.id)
    assert [e.outcome for e in timeline(session_factory, run.id) if e.kind == "operator"] == ["requested"]


def test_mute_all_but_the_host_and_unmute_all(giao_ban: Any, mcu_emulator: Any, make_user: Any,
                                              session_factory: Any) -> None:
    run, (host, a, b) = giao_ban.run, giao_ban.endpoints
    c, tech = giao_ban.client, make_user("technician")
    assert c.post(f"/api/v1/conferences/{run.id}/unmute-all", headers=make_user("secretary").headers
                  ).status_code == 403
    r = c.post(f"/api/v1/conferences/{run.id}/unmute-all", headers=tech.headers)
    assert r.status_code == 200
    assert not any(mcu_emulator.participant(run.conference_name, _pname(ep))["audioRxMuted"]
                   for ep in (host, a, b))
    # Per-participant mute stays.
    assert c.post(f"/api/v1/conferences/{run.id}/participants/{a}/mute", headers=tech.headers).status_code == 200
    r = c.post(f"/api/v1/conferences/{run.id}/mute-all", headers=tech.headers, json={"except_host": True})
    assert r.status_code == 200
    muted = {p["endpoint_id"]: p["audio_muted"] for p in r.get_json()["participants"]}
    assert muted == {host: False, a: True, b: True}
    assert [mcu_emulator.participant(run.conference_name, _pname(ep))["audioRxMuted"] for ep in (host, a, b)] \
        == [False, True, True]
    r = c.post(f"/api/v1/conferences/{run.id}/mute-all", headers=tech.headers, json={"except_host": False})
    assert mcu_emulator.participant(run.conference_name, _pname(host))["audioRxMuted"]
    assert c.post(f"/api/v1/conferences/{run.id}/mute-all", headers=tech.headers,
                  json={"except_host": "maybe"}).status_code == 422
    with session_factory() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("conference.mute_all") == 2 and actions.count("conference.unmute_all") == 1
    ops = [e.details for e in timeline(session_factory, run.id) if e.kind == "operator"]
    assert [d.get("except_host") for d in ops if "count" in d] == [False, True, False]


def test_layouts(giao_ban: Any, mcu_emulator: Any, make_user: Any, session_factory: Any) -> None:
    run = giao_ban.run
    c, tech = giao_ban.client, make_user("technician")
    url = f"/api/v1/conferences/{run.id}/layout"
    r = c.post(url, headers=tech.headers, json={"layout": "host-large"})
    assert r.status_code == 200 and r.get_json()["layout"] == "host-large"
    conf = mcu_emulator.conference(run.conference_name)
    assert conf is not None and conf["customLayoutEnabled"] and conf["customLayout"] == 5
    c.post(url, headers=tech.headers, json={"layout": "grid"})
    assert mcu_emulator.conference(run.conference_name)["customLayout"] == 4  # type: ignore[index]
    bad = c.post(url, headers={**tech.headers, "Accept-Language": "en"}, json={"layout": "mosaic-9"})
    assert bad.status_code == 422 and "voice-switched" in bad.get_json()["fields"]["layout"]
    assert c.post(url, headers=tech.headers, json={}).status_code == 422


def test_an_unsupported_layout_is_named(giao_ban: Any, make_user: Any, session_factory: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from confbridge.bridges.cisco_mcu import CiscoMcuDriver

    monkeypatch.setattr(CiscoMcuDriver, "capabilities", lambda self: type(
        "Caps", (), {"layouts": frozenset({"voice-switched"})})())
    tech = make_user("technician")
    r = giao_ban.client.post(f"/api/v1/conferences/{giao_ban.run.id}/layout",
                             headers={**tech.headers, "Accept-Language": "en"}, json={"layout": "grid"})
    assert r.status_code == 422
    assert "grid" in r.get_json()["fields"]["layout"] and r.get_json()["errors"][0]["code"] == "unsupported"
