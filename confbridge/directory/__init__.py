"""Sites and endpoints (the records; drivers live in confbridge.bridges)."""
