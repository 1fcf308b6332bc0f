"""The poll skips the legs a bridge report would not change (read as plain columns, not loaded): the
rule it skips by must agree with ``apply_report`` on every combination, or a change would be lost."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from confbridge import clock
from confbridge.booking.models import Occurrence
from confbridge.bridges.base import ParticipantInfo
from confbridge.launch.legs import apply_report, report_changes_nothing
from confbridge.launch.models import ConferenceRun, LegState
from confbridge.launch.planner import create_run
from confbridge.settings import Settings
from tests.integration.launch.helpers import book, make_endpoints


def test_every_leg_the_poll_skips_is_one_a_report_leaves_as_it_is(
        settings: Settings, session_factory: sessionmaker[Session], frozen_clock: Any) -> None:
    [endpoint] = make_endpoints(session_factory, 1)
    _meeting, occ_id = book(session_factory, clock.now() + timedelta(minutes=10), endpoints=[endpoint])
    with session_factory.begin() as s:
        occurrence = s.get(Occurrence, occ_id)
        assert occurrence is not None
        run_id = create_run(s, settings, occurrence).id
    with session_factory() as s:
        run = s.get(ConferenceRun, run_id)
        assert run is not None
        conference, name = run.conference_name, run.legs[0].participant_name
    reports: list[ParticipantInfo | None] = [None]
    for state, reason, audio, video in itertools.product(
            ("connected", "dialling", "disconnected", "failed"), (None, "remote_hangup"), (False, True),
            (False, True)):
        reports.append(ParticipantInfo(conference, name, "sip", "x@127.0.0.1", state,  # type: ignore[arg-type]
                                       reason, audio_muted=audio, video_muted=video))
    skipped = 0
    for state, wanted, on_bridge, audio, video, info in itertools.product(
            list(LegState), (True, False), (True, False), (False, True), (False, True), reports):
        if not report_changes_nothing(state, wanted, on_bridge, audio, video, info):
            continue
        skipped += 1
        with session_factory() as s:
            run = s.get(ConferenceRun, run_id)
            assert run is not None
            leg = run.legs[0]
            leg.state, leg.wanted, leg.on_bridge = state, wanted, on_bridge
            leg.audio_muted, leg.video_muted = audio, video
            s.flush()
            apply_report(s, settings, run, leg, info, clock.now())
            changed = [o for o in s.dirty if s.is_modified(o)]
            assert (list(s.new), changed, s.info.get("pending_events", [])) == ([], [], []), (
                state, wanted, on_bridge, audio, video, info)
            s.rollback()
    # Calls that hold, dials still ringing and legs that are over: the poll's common case.
    assert skipped > 100
    connected = ParticipantInfo(conference, name, "sip", "x@127.0.0.1", "connected")
    assert report_changes_nothing(LegState.CONNECTED, True, True, False, False, connected)
    dropped = ParticipantInfo(conference, name, "sip", "x@127.0.0.1", "disconnected", "remote_hangup")
    assert not report_changes_nothing(LegState.CONNECTED, True, True, False, False, dropped)
