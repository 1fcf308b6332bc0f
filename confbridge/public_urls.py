"""The addresses browsers use: the web's own origins, the live server's URL, the origins it accepts.

One place derives them from settings, so the console page, the CSP and the live server's Origin check
always agree (a web port or a TLS change can no longer leave the console talking to nothing):

- ``[live] public_url`` (e.g. ``wss://hoinghi.example.vn/live`` behind nginx) is what the console opens
  and what the CSP allows; empty, it is ``ws://`` (``wss://`` under ``[web] tls``) + live host and port;
- the live server accepts the web's own origins, the origin of ``public_url`` and ``[live]
  allowed_origins``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from confbridge.settings import Settings

_WILDCARDS = {"0.0.0.0", "::", ""}  # noqa: S104 - recognising a wildcard bind, not binding one
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def _hosts(host: str) -> list[str]:
    """The names a browser may use for a server bound to *host*."""
    if host in _WILDCARDS or host in _LOOPBACK_NAMES:
        return list(_LOOPBACK_NAMES)
    return [host]


def _with_port(scheme: str, host: str, port: int) -> str:
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}[scheme]
    name = f"[{host}]" if ":" in host else host
    return f"{scheme}://{name}" if port == default else f"{scheme}://{name}:{port}"


def web_origins(settings: Settings) -> list[str]:
    """The origins of the web app as served by this process (``http(s)://host:port``)."""
    scheme = "https" if settings.web.tls else "http"
    return [_with_port(scheme, host, settings.web.port) for host in _hosts(settings.web.host)]


def origin_of(url: str) -> str:
    """The browser origin of a page served beside *url* (``wss://h/live`` → ``https://h``)."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def live_url(settings: Settings) -> str:
    """The URL the console connects to."""
    if settings.live.public_url:
        return settings.live.public_url
    scheme = "wss" if settings.web.tls else "ws"
    host = settings.live.host if settings.live.host not in _WILDCARDS else "127.0.0.1"
    return _with_port(scheme, host, settings.live.port) + "/"


def live_connect_sources(settings: Settings) -> list[str]:
    """What the CSP's ``connect-src`` must allow for the console's WebSocket."""
    if settings.live.public_url:
        return [settings.live.public_url]
    scheme = "wss" if settings.web.tls else "ws"
    return [_with_port(scheme, host, settings.live.port) for host in _hosts(settings.live.host)]


def live_allowed_origins(settings: Settings) -> list[str]:
    """The browser origins the live server accepts."""
    origins = web_origins(settings)
    if settings.live.public_url:
        origins.append(origin_of(settings.live.public_url))
    origins.extend(settings.live.allowed_origins)
    return list(dict.fromkeys(origins))
