"""Calendar invitations: iCalendar objects (RFC 5545/5546), iMIP e-mail (RFC 6047), the durable outbox
with its SMTP worker, and subscribable calendar feeds.

Nothing here runs at import: the booking hooks are installed by the composition root (``confbridge.runtime``).
"""
