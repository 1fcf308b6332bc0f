"""Meetings, recurrence, occurrences, conflicts and availability."""
