"""Conference-wide operator controls: host in focus, mute all / unmute all, layout.

Like the per-participant actions (``confbridge.launch.service``): check the role and the conference,
record the decision (timeline + audit) and commit, THEN call the bridge, then record the outcome.  The
decisions are rows (``ConferenceRun.host_endpoint_id``, ``layout``, each leg's ``audio_muted``), so a
redial or a scheduler take-over dials with them again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from confbridge.audit.models import record
from confbridge.auth.models import User
from confbridge.bridges.base import LAYOUTS, BridgeDriver, UnsupportedLayout
from confbridge.errors import Conflict, FieldError, InvalidInput
from confbridge.i18n import N_
from confbridge.launch.faults import describe
from confbridge.launch.models import CallLeg, ConferenceRun, LegKind, TimelineKind
from confbridge.launch.service import BridgeFailed, DriverFactory, active_run, default_driver
from confbridge.launch.state import leg_event, note
from confbridge.notices import coded
from confbridge.settings import Settings


def _on_bridge(run: ConferenceRun) -> None:
    if not run.conference_ready:
        raise Conflict.said(N_("Hội nghị chưa lên MCU; hãy thử lại sau giây lát."))


def _call(settings: Settings, run: ConferenceRun, driver_factory: DriverFactory,
          calls: Callable[[BridgeDriver], None]) -> Exception | None:
    driver = driver_factory(settings, run.bridge_name)
    try:
        calls(driver)
    except Exception as exc:  # reported to the operator by the caller
        return exc
    finally:
        driver.close()
    return None


def _failed(session: Session, run_id: int, user: User, label: tuple[str, dict[str, Any]], error: Exception,
            **details: Any) -> None:
    run = session.get(ConferenceRun, run_id)
    assert run is not None
    note(session, run, TimelineKind.BRIDGE_CALL, label[0], label[1], outcome="error", user_id=user.id,
         reason=describe(error), **details)
    session.commit()
    raise BridgeFailed(f"MCU {run.bridge_name}: {describe(error)}")


# ---- host in focus -----------------------------------------------------------------------------------
def set_host(session: Session, settings: Settings, user: User, run_id: int, endpoint_id: int | None, *,
             driver_factory: DriverFactory = default_driver) -> ConferenceRun:
    """Move the focus (``important``) to *endpoint_id* live; ``None`` clears it."""
    run = active_run(session, user, run_id)
    new = run.leg_for(endpoint_id) if endpoint_id is not None else None
    if endpoint_id is not None and (new is None or not new.wanted):
        raise InvalidInput.of([FieldError.of("host_endpoint_id", "not_a_participant", endpoint_id=endpoint_id)])
    _on_bridge(run)
    old = run.leg_for(run.host_endpoint_id) if run.host_endpoint_id is not None else None
    previous = run.host_endpoint_id
    if previous == endpoint_id:
        return run
    run.host_endpoint_id = endpoint_id
    label: tuple[str, dict[str, Any]] = (
        ("control.host", {"endpoint": new.display_name}) if new is not None else ("control.no_host", {}))
    note(session, run, TimelineKind.OPERATOR, *label, outcome="requested", endpoint_id=endpoint_id,
         user_id=user.id, previous=previous)
    record(session, user.id, "conference.host", "conference", run.id, endpoint_id=endpoint_id, previous=previous)
    conference = run.conference_name
    old_ident = (old.participant_name, old.protocol) if old is not None and old.on_bridge else None
    new_ident = (new.participant_name, new.protocol) if new is not None and new.on_bridge else None
    session.commit()

    def calls(driver: BridgeDriver) -> None:
        if old_ident is not None:
            driver.set_important(conference, *old_ident, False)
        if new_ident is not None:  # not on the bridge yet: it is dialled as important
            driver.set_important(conference, *new_ident, True)

    error = _call(settings, run, driver_factory, calls)
    if error is not None:
        _failed(session, run_id, user, label, error, endpoint_id=endpoint_id)
    run = session.get(ConferenceRun, run_id)  # type: ignore[assignment]
    note(session, run, TimelineKind.BRIDGE_CALL, *label, outcome="ok", endpoint_id=endpoint_id, user_id=user.id)
    session.commit()
    return run


# ---- mute all / unmute all ---------------------------------------------------------------------------
def mute_all(session: Session, settings: Settings, user: User, run_id: int, *, mute: bool,
             except_host: bool = True, driver_factory: DriverFactory = default_driver) -> ConferenceRun:
    """Mute (or unmute) every participant's microphone on the bridge, the host spared when asked."""
    run = active_run(session, user, run_id)
    _on_bridge(run)
    spare = run.host_endpoint_id if (mute and except_host) else None
    # The uplink (the higher-level conference relayed) is never part of "mute all": it is the source.
    legs = [leg for leg in run.legs if leg.wanted and leg.on_bridge and leg.endpoint_id != spare
            and leg.kind != LegKind.UPLINK]
    action = "mute_all" if mute else "unmute_all"
    code = ("control.mute_all_but_host" if spare is not None else "control.mute_all") if mute \
        else "control.unmute_all"
    label: tuple[str, dict[str, Any]] = (code, {"count": len(legs)})
    note(session, run, TimelineKind.OPERATOR, *label, outcome="requested", user_id=user.id,
         except_host=spare is not None, count=len(legs))
    record(session, user.id, f"conference.{action}", "conference", run.id, except_host=spare is not None,
           endpoints=[leg.endpoint_id for leg in legs])
    conference = run.conference_name
    targets = [(leg.id, leg.participant_name, leg.protocol) for leg in legs]
    session.commit()
    done: list[int] = []

    def calls(driver: BridgeDriver) -> None:
        for leg_id, pname, proto in targets:
            driver.set_mute(conference, pname, proto, audio=mute)
            done.append(leg_id)

    error = _call(settings, run, driver_factory, calls)
    for leg_id in done:
        leg = session.get(CallLeg, leg_id)
        if leg is not None:
            leg.audio_muted = mute
            leg_event(session, leg)
    if error is not None:
        _failed(session, run_id, user, label, error, done=len(done), count=len(targets))
    run = session.get(ConferenceRun, run_id)  # type: ignore[assignment]
    note(session, run, TimelineKind.BRIDGE_CALL, *label, outcome="ok", user_id=user.id, count=len(done))
    session.commit()
    return run


# ---- layout ------------------------------------------------------------------------------------------
def apply_layout(session: Session, settings: Settings, user: User, run_id: int, layout: str, *,
                 driver_factory: DriverFactory = default_driver) -> ConferenceRun:
    """Show *layout* to everyone; 422 naming it when the bridge cannot."""
    if layout not in LAYOUTS:
        raise InvalidInput.of([FieldError.of("layout", "unknown", choices=", ".join(LAYOUTS))])
    run = active_run(session, user, run_id)
    _on_bridge(run)
    driver = driver_factory(settings, run.bridge_name)
    try:
        supported = driver.capabilities().layouts
    finally:
        driver.close()
    if layout not in supported:
        raise InvalidInput.of([FieldError.of("layout", "unsupported", layout=layout, bridge=run.bridge_name)])
    previous, run.layout = run.layout, layout
    label: tuple[str, dict[str, Any]] = ("control.layout", {"layout": coded(f"layout.{layout}")})
    note(session, run, TimelineKind.OPERATOR, *label, outcome="requested", user_id=user.id, layout=layout,
         previous=previous)
    record(session, user.id, "conference.layout", "conference", run.id, layout=layout, previous=previous)
    conference = run.conference_name
    session.commit()
    error = _call(settings, run, driver_factory, lambda d: d.apply_layout(conference, layout))
    if isinstance(error, UnsupportedLayout):
        run = session.get(ConferenceRun, run_id)  # type: ignore[assignment]
        run.layout = previous
        note(session, run, TimelineKind.BRIDGE_CALL, *label, outcome="error", user_id=user.id,
             reason=describe(error))
        session.commit()
        raise InvalidInput.of([FieldError.of("layout", "unsupported", layout=layout, bridge=run.bridge_name)])
    if error is not None:
        _failed(session, run_id, user, label, error, layout=layout)
    run = session.get(ConferenceRun, run_id)  # type: ignore[assignment]
    note(session, run, TimelineKind.BRIDGE_CALL, *label, outcome="ok", user_id=user.id, layout=layout)
    session.commit()
    return run
