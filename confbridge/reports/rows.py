"""Report rows flattened for the exports (one row per leg), with codes turned into the reader's words."""

from __future__ import annotations

from typing import Any

from confbridge.reports.labels import OUTCOMES, REASONS, STATES, word
from confbridge.reports.service import RunRow


def cdr_rows(runs: list[RunRow], locale: str) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        base = {
            "run_id": run.id, "meeting": run.meeting, "organiser": run.organiser,
            "occurrence_start": run.occurrence_start, "planned_start": run.planned_start,
            "first_call_at": run.first_call_at, "lateness_seconds": run.lateness_seconds,
            "ended_at": run.ended_at, "bridge": run.bridge, "state": word(locale, STATES, run.state),
        }
        if not run.legs:
            rows.append(base)
        for leg in run.legs:
            rows.append({
                **base, "endpoint": leg.endpoint, "site": leg.site, "attempts": leg.attempts,
                "outcome": word(locale, OUTCOMES, leg.outcome), "reason": word(locale, REASONS, leg.reason),
                "first_connected_at": leg.first_connected_at, "connected_seconds": leg.connected_seconds,
                "drops": leg.drops,
            })
    return rows
