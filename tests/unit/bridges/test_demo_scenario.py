from __future__ import annotations

from pathlib import Path

from confbridge.bridges.emulator.scenario import demo_behaviours, load_addresses

ENDPOINTS = Path(__file__).resolve().parents[3] / "config" / "endpoints" / "kien-giang.toml"


def test_demo_endpoints_behave_realistically() -> None:
    behaviours = demo_behaviours(load_addresses(ENDPOINTS))
    assert len(behaviours) == 20
    kinds = [b.behaviour for b in behaviours.values()]
    assert kinds.count("busy") == 1 and behaviours["ubnd-kienhai@vc.kiengiang.example"].behaviour == "busy"
    assert behaviours["ubnd-giangthanh@vc.kiengiang.example"].hangup_after == 90.0
    assert sum(b.packet_loss == "warning" for b in behaviours.values()) == 1
    late = [b for b in behaviours.values() if b.answer_delay >= 10]
    assert len(late) == 2 and all(b.answer_delay <= 15 for b in late)
    normal = [b for b in behaviours.values() if b.behaviour == "answer" and b.answer_delay < 10]
    assert len(normal) == 17 and all(1 <= b.answer_delay <= 4 for b in normal)
    assert demo_behaviours(load_addresses(ENDPOINTS)) == behaviours  # same every run
