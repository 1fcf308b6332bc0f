"""Planning with one engine per bridge lease: each engine creates the runs of its own bridge's meetings
(a meeting with no bridge goes to the default one; one on a bridge no longer configured goes to the
engine of the global lease, which fails it), and never another bridge's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from confbridge.launch.models import ConferenceRun
from confbridge.launch.planner import plan
from confbridge.launch.scope import Scope
from tests.conftest import both_databases
from tests.integration.launch.helpers import book, make_endpoints


@both_databases
def test_each_scope_plans_exactly_its_bridges_meetings(settings: Any, session_factory: Any,
                                                        frozen_clock: Any) -> None:
    settings = settings.with_overrides(bridges=[
        {"name": name, "driver": "emulator", "url": "http://127.0.0.1:9/RPC2", "username": "admin",
         "password_env": "UNUSED_MCU_PASSWORD", "default": name == "mcu-a"} for name in ("mcu-a", "mcu-b")])
    eps = make_endpoints(session_factory, 4)
    start = frozen_clock.now() + timedelta(minutes=2)
    occurrence = {bridge: book(session_factory, start, setup=1, endpoints=[ep], bridge=bridge)[1]
                  for bridge, ep in zip(["mcu-a", "mcu-b", None, "mcu-retired"], eps, strict=True)}

    def planned() -> dict[int, str]:
        with session_factory() as s:
            return {r.occurrence_id: r.bridge_name for r in s.scalars(select(ConferenceRun))}

    with session_factory.begin() as s:
        plan(s, settings, frozen_clock.now(), Scope.bridge("mcu-b"))
    assert planned() == {occurrence["mcu-b"]: "mcu-b"}
    with session_factory.begin() as s:
        plan(s, settings, frozen_clock.now(), Scope.bridge("mcu-a"))
    assert planned() == {occurrence["mcu-b"]: "mcu-b", occurrence["mcu-a"]: "mcu-a", occurrence[None]: "mcu-a"}
    with session_factory.begin() as s:
        plan(s, settings, frozen_clock.now(), Scope.unconfigured(frozenset({"mcu-a", "mcu-b"})))
    assert planned()[occurrence["mcu-retired"]] == "mcu-retired"
    assert len(planned()) == 4
