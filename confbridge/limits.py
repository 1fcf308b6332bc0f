"""Fixed limits of the booking rules that are not settings (an admin cannot change them).

Limits an admin may tune live in ``confbridge.settings`` (``booking.max_duration_hours``,
``booking.default_setup_minutes``, …); the fixed ones live here, once.  Rules read them from here and
messages quote them as parameters, so changing a number changes the rule and every message that names it.
"""

from __future__ import annotations

MAX_SETUP_MINUTES = 240  # endpoints are connected at most 4 hours before a meeting starts
MIN_DURATION_MINUTES = 5
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5000
MAX_ATTENDEES = 500
MAX_ATTENDEE_NAME_LENGTH = 200
MAX_EXTERNAL_PARTICIPANTS = 20  # outside-the-directory participants of one meeting (at most one uplink)
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 16
MAX_EXTEND_MINUTES = 240  # one "extend the running conference" step
MAX_GROUP_ENDPOINTS = 500  # endpoints in one endpoint group (and in one meeting template)
