"""HTML pages for secretaries, technicians and admins (server-rendered Jinja, no build step)."""
