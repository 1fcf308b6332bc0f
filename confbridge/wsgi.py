"""WSGI entry point for production servers: ``gunicorn 'confbridge.wsgi:app'``.

Settings come from ``$CONFBRIDGE_CONFIG`` and ``CONFBRIDGE_*``; importing this module is the explicit
act of starting a web worker (no scheduler runs here).
"""

from confbridge.app import create_app
from confbridge.settings import load_settings

app = create_app(load_settings())
