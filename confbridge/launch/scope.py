"""Which conference runs one launch engine drives: the runs on the bridges whose leases it holds.

With several schedulers, launch and monitor work is split by bridge (``confbridge.scheduler.share``):
each held bridge gets its own engine, fenced by that bridge's lease, whose scope is that one bridge.
Runs on a bridge that is not configured (they can only fail with ``why.no_bridge``) belong to the
engine of the global lease (``others``).  ``None`` instead of a scope means every run (one engine for
everything: tests and tools that drive the engine directly).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, or_, true


@dataclass(frozen=True)
class Scope:
    bridges: frozenset[str]
    # Also the runs whose bridge is none of *known* (the configured bridges).
    others: bool = False
    known: frozenset[str] = frozenset()

    @classmethod
    def bridge(cls, name: str) -> Scope:
        return cls(frozenset({name}))

    @classmethod
    def unconfigured(cls, known: frozenset[str]) -> Scope:
        return cls(frozenset(), others=True, known=known)

    def owns(self, bridge_name: str | None) -> bool:
        name = bridge_name or ""
        return name in self.bridges or (self.others and name not in self.known)

    def clause(self, column: Any) -> Any:
        """A SQL condition on a ``bridge_name`` column: true for the runs this scope owns."""
        parts = []
        if self.bridges:
            parts.append(column.in_(sorted(self.bridges)))
        if self.others:
            parts.append(column.notin_(sorted(self.known)) if self.known else true())
        return or_(*parts) if parts else false()


def owns(scope: Scope | None, bridge_name: str | None) -> bool:
    return scope is None or scope.owns(bridge_name)


def scoped(scope: Scope | None, column: Any) -> list[Any]:
    """Extra WHERE conditions for *scope* (none when the engine drives everything)."""
    return [] if scope is None else [scope.clause(column)]
