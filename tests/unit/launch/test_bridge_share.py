"""Sharing bridges between schedulers: the fair share decision and the scope of an engine (pure)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import column, select

from confbridge.launch.scope import Scope, owns, scoped
from confbridge.scheduler.share import NAME_LENGTH, Census, bridge_lease_name, decide, fair_share

BRIDGES = ("a", "b", "c", "d")


def _census(nodes: set[str], holders: dict[str, str | None]) -> Census:
    full = {b: holders.get(b) for b in BRIDGES}
    return Census(frozenset(nodes), full, Counter(h for h in full.values() if h is not None))


def test_alone_a_scheduler_takes_every_bridge() -> None:
    d = decide(_census(set(), {}), "me", [])
    assert sorted(d.take) == list(BRIDGES) and d.want == 4 and d.give is None


def test_two_schedulers_take_half_each() -> None:
    d = decide(_census({"me", "other"}, {}), "me", [])
    assert d.want == 2 and len(d.take) == 4
    d = decide(_census({"me", "other"}, {"a": "other", "b": "other"}), "me", [])
    assert sorted(d.take) == ["c", "d"] and d.want == 2


def test_above_the_share_one_bridge_is_given_to_a_scheduler_below_it() -> None:
    census = _census({"me", "new"}, {b: "me" for b in BRIDGES})
    d = decide(census, "me", BRIDGES)
    assert d.give in BRIDGES and d.want == 0
    # At its share: nothing more is given.
    census = _census({"me", "new"}, {"a": "me", "b": "me", "c": "new", "d": "new"})
    assert decide(census, "me", ["a", "b"]).give is None


def test_a_dead_schedulers_bridges_are_taken_when_nobody_below_the_share_can() -> None:
    # "dead" still counts as live for a moment, but holds nothing: the survivors keep their share.
    census = _census({"me", "other"}, {"a": "me", "b": "me", "c": "other", "d": None})
    d = decide(census, "me", ["a", "b"])
    assert d.want == 0  # "other" is below its share and will take d
    census = _census({"me", "other"}, {"a": "me", "b": "other", "c": "other", "d": None})
    d = decide(census, "me", ["a"])
    assert d.take == ["d"] and d.want == 1
    # Nobody below the share: the free bridge is taken anyway (never left undriven).
    census = Census(frozenset({"me"}), {"a": "me", "b": None}, Counter({"me": 1}))
    assert decide(census, "me", ["a"]).take == ["b"]


def test_fair_share_and_lease_names() -> None:
    assert [fair_share(4, n) for n in (0, 1, 2, 3, 4, 5)] == [4, 4, 2, 2, 1, 1]
    assert bridge_lease_name("mcu-hanoi") == "bridge:mcu-hanoi"
    long = bridge_lease_name("x" * 64)
    assert len(long) <= NAME_LENGTH and long != bridge_lease_name("x" * 63 + "y")


def test_scope_of_a_bridge_and_of_the_unconfigured_ones() -> None:
    one = Scope.bridge("a")
    assert one.owns("a") and not one.owns("b") and not one.owns("")
    rest = Scope.unconfigured(frozenset({"a", "b"}))
    assert rest.owns("gone") and rest.owns("") and not rest.owns("a")
    assert owns(None, "anything") and scoped(None, column("bridge_name")) == []
    sql = str(select(column("x")).where(*scoped(rest, column("bridge_name"))).compile(
        compile_kwargs={"literal_binds": True}))
    assert "NOT IN ('a', 'b')" in sql
