"""The addresses browsers use, derived in one place from settings."""

from __future__ import annotations

from confbridge.public_urls import live_allowed_origins, live_connect_sources, live_url, origin_of
from confbridge.settings import load_settings


def test_the_live_server_accepts_the_web_origin_whatever_its_port() -> None:
    settings = load_settings(environ={"CONFBRIDGE_WEB_PORT": "18080"})
    assert live_allowed_origins(settings) == ["http://127.0.0.1:18080", "http://localhost:18080"]
    assert live_url(settings) == "ws://127.0.0.1:8765/"


def test_tls_and_a_public_url_behind_the_proxy() -> None:
    settings = load_settings(environ={"CONFBRIDGE_WEB_TLS": "true", "CONFBRIDGE_WEB_PORT": "443",
                                      "CONFBRIDGE_WEB_HOST": "hoinghi.example.vn"})
    assert live_url(settings) == "wss://127.0.0.1:8765/"
    assert live_allowed_origins(settings) == ["https://hoinghi.example.vn"]
    behind = settings.with_overrides(**{"web.host": "127.0.0.1", "web.port": 8080,
                                        "live.public_url": "wss://hoinghi.example.vn/live",
                                        "live.allowed_origins": ["https://hoinghi2.example.vn"]})
    assert live_url(behind) == live_connect_sources(behind)[0] == "wss://hoinghi.example.vn/live"
    assert live_allowed_origins(behind) == ["https://127.0.0.1:8080", "https://localhost:8080",
                                            "https://hoinghi.example.vn", "https://hoinghi2.example.vn"]


def test_origin_of_a_websocket_url() -> None:
    assert origin_of("wss://hoinghi.example.vn:8443/live") == "https://hoinghi.example.vn:8443"
    assert origin_of("ws://127.0.0.1:8765/") == "http://127.0.0.1:8765"
