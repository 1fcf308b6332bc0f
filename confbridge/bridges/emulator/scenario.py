"""Scripted endpoint behaviours: ``none`` (everyone answers quickly) and ``demo`` (realistic).

The demo scenario reads the endpoints file (``config/endpoints/kien-giang.toml``): most endpoints answer
after 1–4 s, two answer late (~10–15 s), one is busy (``ubnd-kienhai@…``), one drops mid-call after
~90 s (``ubnd-giangthanh@…``), one reports packet loss.  Delays come from a seeded RNG so every run of
the demo behaves the same.
"""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

from confbridge.bridges.emulator.behaviour import Behaviour

LATE = ("ubnd-vinhthuan@", "ubnd-uminhthuong@")
BUSY = "ubnd-kienhai@"
DROPS = "ubnd-giangthanh@"
PACKET_LOSS = "ubnd-anbien@"


def load_addresses(endpoints_file: str | Path) -> list[str]:
    data = tomllib.loads(Path(endpoints_file).read_text(encoding="utf-8"))
    return [str(e["address"]) for e in data.get("endpoints", []) if e.get("address")]


def demo_behaviours(addresses: list[str], *, seed: int = 20261126) -> dict[str, Behaviour]:
    rng = random.Random(seed)  # noqa: S311 - deterministic demo delays, not security
    out: dict[str, Behaviour] = {}
    for address in addresses:
        delay = round(rng.uniform(1.0, 4.0), 1)
        if address.startswith(LATE):
            out[address] = Behaviour(answer_delay=round(rng.uniform(10.0, 15.0), 1))
        elif address.startswith(BUSY):
            out[address] = Behaviour(behaviour="busy", answer_delay=2.0)
        elif address.startswith(DROPS):
            out[address] = Behaviour(answer_delay=delay, hangup_after=90.0)
        elif address.startswith(PACKET_LOSS):
            out[address] = Behaviour(answer_delay=delay, packet_loss="warning")
        else:
            out[address] = Behaviour(answer_delay=delay)
    return out


def scenario(name: str, endpoints_file: str | Path | None) -> dict[str, Behaviour]:
    if name == "none":
        return {}
    if name == "demo":
        return demo_behaviours(load_addresses(endpoints_file)) if endpoints_file else {}
    raise ValueError(f"unknown scenario {name!r} (demo|none)")
