"""The live server fixtures (tests/integration/live/conftest.py) for the live port's probe tests."""

from tests.integration.live.conftest import bus, live_settings, token_for

__all__ = ["bus", "live_settings", "token_for"]
