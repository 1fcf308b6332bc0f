"""Maintenance: blackout windows of endpoints and bridges (the operations; the table and the booking
rule that refuses overlapping bookings live in :mod:`confbridge.booking`)."""
