"""Chromium (Debian's, through Playwright) for the topology test, from the browser tests' fixtures."""

from tests.browser.conftest import chromium

__all__ = ["chromium"]
