"""The contacts of a meeting's endpoints (each room's local technician, issue 14).

They are optional attendees of the meeting's invitations and receive the reminder before the setup
time.  An endpoint without a usable contact e-mail contributes nothing; one person looking after several
rooms is one recipient; a contact who is also an attendee stays a (required) attendee.
"""

from __future__ import annotations

from confbridge.booking.models import Meeting
from confbridge.text import valid_email

Person = tuple[str, str]  # (email, display name)


def endpoint_contacts(meeting: Meeting) -> list[Person]:
    """The distinct contacts (email, name) of the meeting's endpoints that are not its attendees."""
    taken = {a.email.strip().lower() for a in meeting.attendees}
    out: list[Person] = []
    for endpoint in meeting.endpoints:
        email = (endpoint.contact_email or "").strip()
        if not valid_email(email) or email.lower() in taken:
            continue
        taken.add(email.lower())
        out.append((email, endpoint.contact_name or ""))
    return out
