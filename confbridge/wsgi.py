"""WSGI entry point for production servers: ``gunicorn 'confbridge.wsgi:app'``.

Settings come from ``$CONFBRIDGE_CONFIG`` and ``CONFBRIDGE_*``; importing this module is the explicit
act of starting a web worker (no scheduler runs here).  The worker is wired by the composition root
(:func:`confbridge.runtime.open_runtime`): logging, database, the event publisher of ``[live] bus``, the
booking hooks.
"""

from confbridge.app import create_app
from confbridge.runtime import open_runtime
from confbridge.settings import load_settings
from confbridge.webserver import settle_heap

_settings = load_settings()
runtime = open_runtime(_settings, "wsgi")
app = create_app(_settings, runtime=runtime)
settle_heap()  # the app is loaded: keep full collections off its objects (see settle_heap)
